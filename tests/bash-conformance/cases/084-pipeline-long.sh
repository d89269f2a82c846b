#!/bin/bash
seq 1 100 | awk '$1 % 7 == 0' | paste -sd+ | tee expr.txt
echo "sum = $(( $(cat expr.txt) ))"
printf '%s\n' "The Quick brown" "fox Jumps over" | tr 'A-Z' 'a-z' | tr ' ' '\n' | sort | head -4
