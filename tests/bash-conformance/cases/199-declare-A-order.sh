#!/bin/bash
declare -A count
for w in apple banana apple cherry banana apple; do
  count[$w]=$(( ${count[$w]:-0} + 1 ))
done
for k in $(printf '%s\n' "${!count[@]}" | sort); do
  echo "$k ${count[$k]}"
done
echo "keys: ${#count[@]}"
for k in "${!count[@]}"; do echo "$k"; done | sort | tr '\n' ' '; echo
declare -A one=([only]=1)
for k in "${!one[@]}"; do echo "single: $k=${one[$k]}"; done
[[ -v count[apple] ]] && echo "apple set"
unset 'count[apple]'
echo "after unset: ${#count[@]}"
