#!/bin/bash
cat > todo.txt <<'EOF'
[x] write code
[ ] write tests
[x] fix bug
[ ] deploy
EOF
done_count=$(grep -c '^\[x\]' todo.txt)
total=$(wc -l < todo.txt)
echo "done $done_count of $total"
grep '^\[ \]' todo.txt | sed 's/^\[ \] /TODO: /'
n=0
while IFS= read -r line; do
  n=$((n + 1))
  printf '%2d. %s\n' "$n" "$line"
done < todo.txt
