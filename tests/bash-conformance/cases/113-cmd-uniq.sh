#!/bin/bash
printf 'a\na\nb\nc\nc\nc\na\n' > u.txt
uniq u.txt
echo ---
uniq -c u.txt
echo ---
uniq -d u.txt
echo ---
uniq -u u.txt
echo ---
sort u.txt | uniq -c | sort -rn
printf 'A\na\n' | uniq -i
