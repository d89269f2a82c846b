#!/bin/bash
seq 1 20 > nums.txt
head -n 3 nums.txt
echo ---
tail -n 3 nums.txt
echo ---
head -c 5 nums.txt; echo
tail -n +18 nums.txt
head -n -17 nums.txt
cat -n nums.txt | head -2
cat nums.txt nums.txt | wc -l
