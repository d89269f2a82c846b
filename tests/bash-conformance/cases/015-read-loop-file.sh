#!/bin/bash
cat > names.txt <<'EOF'
alice 30
bob 25
carol 35
EOF
while read -r name age; do
  echo "$name is $age years old"
done < names.txt
total=0
while read -r _ age; do total=$((total + age)); done < names.txt
echo "total age: $total"
