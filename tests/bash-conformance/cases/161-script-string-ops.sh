#!/bin/bash
s="Hello, World"
rev=""
for ((i=${#s}-1; i>=0; i--)); do rev+="${s:i:1}"; done
echo "$rev"
echo "$s" | rev
word="racecar"
[[ $word == "$(echo "$word" | rev)" ]] && echo "$word is a palindrome"
str="a-b-c-d"
echo "dashes: $(tr -cd '-' <<< "$str" | wc -c)"
printf '%.0s=' {1..20}; echo
line=$(printf '%*s' 10 ''); echo "[${line// /-}]"
trim="   padded   "
trimmed="${trim#"${trim%%[![:space:]]*}"}"; trimmed="${trimmed%"${trimmed##*[![:space:]]}"}"
echo "[$trimmed]"
