#!/bin/bash
make_page() {
  cat <<HTML
<h1>$1</h1>
<p>$2</p>
HTML
}
for t in Home About; do
  make_page "$t" "Welcome to $t"
done
