#!/bin/bash
seq 1 100000 | cut -c1 | sort | uniq -c | sort -k2n | head -3
seq 1 100000 | grep 7 | wc -l
seq 1 100000 | sort -rn | head -2
seq 1 100000 | awk '{ print $1 % 7 }' | sort -n | uniq -c
seq 1 100000 | sed -n '50000p' | tr 0 o
