#!/bin/bash
echo "name,score" > scores.csv
for p in "ann 90" "ben 72" "cat 85"; do
  set -- $p
  echo "$1,$2" >> scores.csv
done
cat scores.csv
echo "average: $(tail -n +2 scores.csv | cut -d, -f2 | awk '{s+=$1} END {print s/NR}')"
best=$(tail -n +2 scores.csv | sort -t, -k2 -nr | head -1 | cut -d, -f1)
echo "best: $best"
ls
