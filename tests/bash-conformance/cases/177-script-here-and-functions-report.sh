#!/bin/bash
generate() {
  local title=$1; shift
  echo "== $title =="
  local i=1
  for item in "$@"; do echo "$i. $item"; ((i++)); done
  echo "($# items)"
}
generate "Groceries" milk eggs bread > list.txt
cat list.txt
grep -c '^[0-9]' list.txt
