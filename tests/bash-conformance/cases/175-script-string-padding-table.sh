#!/bin/bash
data="alice:admin:2021
bob:user:2019
charlotte:guest:2023"
printf '%-10s|%-6s|%s\n' USER ROLE YEAR
printf '%s\n' "----------+------+----"
while IFS=: read -r u r y; do
  printf '%-10s|%-6s|%s\n' "$u" "$r" "$y"
done <<< "$data"
