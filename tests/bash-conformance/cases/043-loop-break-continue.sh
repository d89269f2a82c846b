#!/bin/bash
for i in {1..10}; do
  if (( i % 2 == 0 )); then continue; fi
  if (( i > 7 )); then break; fi
  echo "odd $i"
done
for i in 1 2 3; do
  for j in a b c; do
    if [[ $j == b ]]; then continue 2; fi
    echo "$i$j"
  done
done
while true; do
  echo "once"
  break
done
