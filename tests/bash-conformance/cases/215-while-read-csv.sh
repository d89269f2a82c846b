#!/bin/bash
cat > data.csv <<'CSV'
id,name,score
1,Ann,88
2,Bob,72
3,Cy,95
CSV
total=0; count=0
{
  read -r header
  while IFS=, read -r id name score; do
    printf '%-4s %3d\n' "$name" "$score"
    total=$((total + score)); count=$((count + 1))
  done
} < data.csv
echo "header was: $header"
echo "average: $((total / count))"
tail -n +2 data.csv | while IFS=, read -r _ name _; do echo "name: $name"; done
best=$(tail -n +2 data.csv | sort -t, -k3,3nr | head -1 | cut -d, -f2)
echo "best: $best"
