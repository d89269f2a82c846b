#!/bin/bash
for name in report.txt data.csv notes.md image.png; do
  echo "content of $name" > "$name"
done
for f in *.txt *.md; do
  echo "text file: $f ($(wc -c < "$f") bytes)"
done
count=0
for f in *; do count=$((count + 1)); done
echo "total files: $count"
