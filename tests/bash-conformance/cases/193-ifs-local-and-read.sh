#!/bin/bash
join_by() { local IFS="$1"; shift; echo "$*"; }
join_by , a b c
join_by '|' 1 2
echo "after join: [$*] words=$(x='p q r'; set -- $x; echo $#)"
IFS=, read -r name age city <<< "alice,30,paris"
echo "$name is $age in $city"
printf '%q\n' "$IFS"
while IFS=: read -r user _ uid _; do
  echo "$user=$uid"
done <<'DATA'
root:x:0:0
bob:x:1000:1000
DATA
IFS= read -r raw <<< "  spaced  "
echo "[$raw]"
arr=(one two three)
(IFS=-; echo "${arr[*]}")
echo "${arr[*]}"
