#!/bin/bash
is_even() { (( $1 % 2 == 0 )); }
check() {
  if [[ -z "$1" ]]; then
    echo "error: empty" >&2
    return 2
  fi
  return 0
}
for n in 1 2 3 4; do
  if is_even $n; then echo "$n even"; else echo "$n odd"; fi
done
check ""
echo "check status: $?"
check x && echo "check ok"
