#!/bin/bash
count=0
printf 'a\nb\nc\n' | while read -r l; do count=$((count+1)); done
echo "count after pipe loop: $count"
count=0
while read -r l; do count=$((count+1)); done <<< "$(printf 'a\nb\nc')"
echo "count after herestring loop: $count"
