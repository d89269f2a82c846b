#!/bin/bash
n=1
while [ $n -le 5 ]; do
  echo "while $n"
  n=$((n + 1))
done
m=3
until [ $m -eq 0 ]; do
  echo "until $m"
  ((m--))
done
