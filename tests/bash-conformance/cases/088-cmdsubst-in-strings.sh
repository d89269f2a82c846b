#!/bin/bash
echo "There are $(echo one two three | wc -w) words"
len=$(echo -n "abcdef" | wc -c)
echo "length: $len"
today="2024-03-15"
year=$(echo "$today" | cut -d- -f1)
echo "year: $year"
result=$( { echo out; echo err >&2; } 2>&1 )
echo "combined: $result"
