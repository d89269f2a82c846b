#!/bin/bash
nums=(42 7 19 3 88 23 7)
sorted=($(printf '%s\n' "${nums[@]}" | sort -n))
echo "sorted: ${sorted[*]}"
unique=($(printf '%s\n' "${nums[@]}" | sort -nu))
echo "unique: ${unique[*]}"
max=${nums[0]}
for n in "${nums[@]}"; do (( n > max )) && max=$n; done
echo "max: $max"
sum=0; for n in "${nums[@]}"; do sum=$((sum+n)); done
echo "sum: $sum avg: $((sum / ${#nums[@]}))"
