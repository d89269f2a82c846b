#!/bin/bash
seq 1 300000 | wc -l
seq 1 300000 | wc -c
seq 1 100000 | wc
yes hello | head -n 50000 | wc -w
seq 1 200000 | cut -c1 | sort | uniq -c
seq 1 50000 | awk '{ s += $1 } END { print s }'
seq 1 100000 | sed -n '99999,$p'
printf 'one two\nthree\n' | wc -lw
