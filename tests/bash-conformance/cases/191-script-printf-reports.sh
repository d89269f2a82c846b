#!/bin/bash
declare -A sales=([north]=1200 [south]=850 [east]=1430 [west]=990)
total=0
for r in north south east west; do total=$((total + sales[$r])); done
for r in north south east west; do
  pct=$(awk -v a="${sales[$r]}" -v t="$total" 'BEGIN{printf "%.1f", a*100/t}')
  printf "%-6s %6d %6s%%\n" "$r" "${sales[$r]}" "$pct"
done
printf "%-6s %6d\n" total "$total"
