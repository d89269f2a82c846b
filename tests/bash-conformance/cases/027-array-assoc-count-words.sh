#!/bin/bash
text="the quick brown fox jumps over the lazy dog the end"
declare -A count
for w in $text; do
  count[$w]=$(( ${count[$w]:-0} + 1 ))
done
for w in "${!count[@]}"; do
  echo "$w ${count[$w]}"
done | sort -k2,2nr -k1,1 | head -5
