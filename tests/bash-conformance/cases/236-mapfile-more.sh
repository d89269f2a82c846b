#!/bin/bash
printf 'one\ntwo\nthree\n' > in.txt
mapfile -t arr < in.txt
for i in "${!arr[@]}"; do echo "$i:${arr[$i]}"; done
mapfile -t -O 5 arr2 < in.txt
echo "indices: ${!arr2[*]}"
mapfile -t lines < <(seq 3 | sed 's/^/n/')
printf '%s\n' "${lines[@]}" | paste -sd' '
mapfile -t empty < /dev/null
echo "empty: ${#empty[@]}"
show() { echo "cb $1 [$2]"; }
mapfile -t -C show -c 2 cbarr < in.txt
echo "${#cbarr[@]}"
