#!/bin/bash
fruits=("apple" "banana" "cherry")
echo "first: ${fruits[0]}"
echo "all: ${fruits[@]}"
echo "count: ${#fruits[@]}"
fruits[3]="date"
fruits+=("elderberry")
for f in "${fruits[@]}"; do echo "- $f"; done
echo "indices: ${!fruits[@]}"
echo "last: ${fruits[-1]}"
echo "slice: ${fruits[@]:1:2}"
