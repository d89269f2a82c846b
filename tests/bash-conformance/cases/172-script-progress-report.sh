#!/bin/bash
total=5
for ((i = 1; i <= total; i++)); do
  pct=$(( i * 100 / total ))
  bar=$(printf '%*s' $((pct / 10)) '' | tr ' ' '#')
  printf '[%-10s] %3d%%\n' "$bar" "$pct"
done
