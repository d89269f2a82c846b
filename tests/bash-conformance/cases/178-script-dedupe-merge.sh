#!/bin/bash
printf 'b\na\nc\n' > one.txt
printf 'c\nd\na\n' > two.txt
sort -u one.txt two.txt
echo ---
sort one.txt two.txt | uniq -d
echo ---
comm -23 <(sort one.txt) <(sort two.txt)
join <(sort one.txt) <(sort two.txt)
