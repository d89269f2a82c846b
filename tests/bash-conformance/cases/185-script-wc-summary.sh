#!/bin/bash
for n in 3 7 5; do seq 1 $n > "f$n.txt"; done
for f in f*.txt; do
  printf "%s: %d lines\n" "$f" "$(wc -l < "$f")"
done
cat f*.txt | wc -l
wc -l f*.txt | tail -1
