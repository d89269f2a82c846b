#!/bin/bash
printf 'a:1\na:2\nb:3\nb:4\nb:5\nc:6\n' > kv.txt
cut -d: -f1 kv.txt | uniq -c
cut -d: -f1 kv.txt | uniq -d
cut -d: -f2 kv.txt | paste -sd' '
cut -d: -f1 < kv.txt | uniq | wc -l
seq 1 50000 | cut -c1-2 | uniq | wc -l
printf 'x\nx\ny\n' | uniq -u
