#!/bin/bash
printf "%8s %8s\n" "Celsius" "Fahr"
for c in -10 0 25 37 100; do
  f=$(( c * 9 / 5 + 32 ))
  printf "%8d %8d\n" "$c" "$f"
done
awk 'BEGIN { for (c = 0; c <= 30; c += 15) printf "%5.1f C = %5.1f F\n", c, c * 1.8 + 32 }'
