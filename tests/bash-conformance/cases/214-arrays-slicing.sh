#!/bin/bash
nums=(5 3 8 1 9 2)
echo "count=${#nums[@]} first=${nums[0]} last=${nums[-1]}"
echo "slice: ${nums[@]:1:3}"
echo "from 4: ${nums[@]:4}"
nums+=(7)
echo "appended: ${nums[*]}"
unset 'nums[1]'
echo "indices: ${!nums[@]}"
sorted=($(printf '%s\n' "${nums[@]}" | sort -n))
echo "sorted: ${sorted[*]}"
max=${nums[0]}; for n in "${nums[@]}"; do (( n > max )) && max=$n; done; echo "max=$max"
copy=("${nums[@]}"); echo "copy has ${#copy[@]}"
words=("two words" single); for w in "${words[@]}"; do echo "<$w>"; done
declare -a matrix=([0]=a [5]=f); echo "${#matrix[@]} ${!matrix[*]}"
echo "joined: $(IFS=,; echo "${sorted[*]}")"
