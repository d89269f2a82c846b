#!/bin/bash
line="alice:30:engineer"
IFS=: read -r name age job <<< "$line"
echo "name=$name age=$age job=$job"
csv="a,b,,d"
IFS=, read -ra parts <<< "$csv"
echo "${#parts[@]} parts"
for p in "${parts[@]}"; do echo "[$p]"; done
OLDIFS=$IFS
IFS=-
words="x-y-z"
for w in $words; do echo "$w"; done
IFS=$OLDIFS
