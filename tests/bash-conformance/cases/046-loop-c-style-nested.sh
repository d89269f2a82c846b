#!/bin/bash
for ((i = 1; i <= 5; i++)); do
  row=""
  for ((j = 1; j <= i; j++)); do row+="*"; done
  echo "$row"
done
for ((i = 1; i <= 3; i++)); do
  for ((j = 1; j <= 3; j++)); do
    printf "%4d" $((i * j))
  done
  echo
done
