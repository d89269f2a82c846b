#!/bin/bash
printf 'a\nb\nc\n' > one.txt
printf 'a\nc\nd\n' > two.txt
comm -12 <(sort one.txt) <(sort two.txt)
diff <(sort one.txt) <(sort two.txt) && echo same || echo "differ: $?"
while read -r line; do echo "read: $line"; done < <(grep -v b one.txt)
paste -d: <(cut -c1 one.txt) two.txt
count=0; while read -r _; do count=$((count+1)); done < <(seq 1 5); echo "count=$count"
cat <(echo first) <(echo second)
