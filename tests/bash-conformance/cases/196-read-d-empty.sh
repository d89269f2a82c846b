#!/bin/bash
mkdir -p data
touch "data/file one.txt" data/two.txt "data/three four.log"
while IFS= read -r -d '' f; do
  echo "got: $f"
done < <(find data -type f -print0 | sort -z)
printf 'a\0b c\0d\0' | while IFS= read -r -d '' item; do echo "[$item]"; done
read -r -d '' block <<'EOF2'
line 1
line 2
EOF2
echo "status read -d '': $?"
printf '%s' "$block" | wc -l
