#!/bin/bash
printf 'line one\nline two\nline three\n' > input.txt
mapfile -t lines < input.txt
echo "read ${#lines[@]} lines"
echo "second: ${lines[1]}"
readarray -t nums < <(seq 5 -1 1)
echo "${nums[*]}"
files=($(echo c b a))
echo "${files[@]}"
IFS=$'\n' sorted=($(sort <<<"${files[*]}")); unset IFS
echo "${sorted[@]}"
