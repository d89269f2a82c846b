#!/bin/bash
stats() {
  local -a nums=("$@")
  local min=${nums[0]} max=${nums[0]} n
  for n in "${nums[@]}"; do
    (( n < min )) && min=$n
    (( n > max )) && max=$n
  done
  echo "min=$min max=$max count=${#nums[@]}"
}
stats 5 3 9 1 7
stats 42
