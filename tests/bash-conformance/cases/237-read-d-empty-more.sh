#!/bin/bash
read -r -d '' text <<'EOF2'
first line
  second indented
EOF2
printf '[%s]\n' "$text"
IFS= read -r -d '' keep <<'EOF2'
  leading kept
EOF2
printf '[%s]\n' "$keep"
printf 'one\0two\0' > z.bin
while IFS= read -r -d '' x; do n=$((n+1)); echo "$n=$x"; done < z.bin
read -r -d , first rest <<< "a,b,c"
echo "first=$first rest=$rest"
read -d '' -a words <<< "x y
z"
echo "${#words[@]} words: ${words[*]}"
