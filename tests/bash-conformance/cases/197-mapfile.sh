#!/bin/bash
mapfile -t lines < <(printf 'alpha\nbeta\ngamma\n')
echo "${#lines[@]}: ${lines[*]}"
printf 'x\ny\n' > in.txt
readarray -t arr < in.txt
echo "last=${arr[-1]}"
mapfile lines2 <<< $'a\nb'
printf '[%s]' "${lines2[@]}"; echo
mapfile -t -s 1 -n 2 part < <(seq 1 10)
echo "${part[@]}"
mapfile -d , -t fields <<< "1,2,3"
echo "${#fields[@]} fields, last=[${fields[2]}]"
