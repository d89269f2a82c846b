#!/bin/bash
printf '%s\n' 10 20 30 | while read -r n; do
  echo "value: $((n * 2))"
done
total=0
while read -r n; do total=$((total + n)); done < <(printf '%s\n' 1 2 3 4)
echo "total: $total"
