#!/bin/bash
a=(zero one two three four)
unset 'a[1]'
echo "count: ${#a[@]}"
echo "indices: ${!a[@]}"
a[10]=ten
for i in "${!a[@]}"; do echo "$i=${a[$i]}"; done
unset a
echo "after unset: ${#a[@]}"
