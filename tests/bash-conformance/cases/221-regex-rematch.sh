#!/bin/bash
line="2024-03-15 ERROR [db] connection lost (code=57)"
if [[ $line =~ ^([0-9]{4})-([0-9]{2})-([0-9]{2})\ ([A-Z]+) ]]; then
  echo "year=${BASH_REMATCH[1]} month=${BASH_REMATCH[2]} level=${BASH_REMATCH[4]}"
fi
re='code=([0-9]+)'
[[ $line =~ $re ]] && echo "code ${BASH_REMATCH[1]}"
[[ "abc" =~ ^a.c$ ]] && echo "dot matches"
[[ "a.c" =~ ^a\.c$ ]] && echo "escaped dot"
[[ "hello" =~ "ell" ]] && echo "quoted substring"
email="user@example.com"
[[ $email =~ ^[^@]+@[^@]+\.[a-z]+$ ]] && echo "valid email"
for v in 1.2.3 1.2 x.y.z; do
  if [[ $v =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then echo "$v ok major=${BASH_REMATCH[1]}"; else echo "$v bad"; fi
done
echo "${#BASH_REMATCH[@]}"
