#!/bin/bash
printf 'a\nb\nc\nd\ne\n' > f.txt
sed -n '$p' f.txt
sed '$d' f.txt | tr '\n' ' '; echo
sed '$!s/$/,/' f.txt | tr -d '\n'; echo
sed 'N;s/\n/+/' f.txt
echo ---
sed ':a;N;$!ba;s/\n/ /g' f.txt
sed '$!N;s/\n/ | /' f.txt
sed -n '$=' f.txt
sed '1!G;h;$!d' f.txt | tr '\n' ' '; echo
printf 'x\ny\n' | sed -n 'p;n'
seq 1 7 | sed -n '2~3p'
