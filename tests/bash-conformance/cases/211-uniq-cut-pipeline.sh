#!/bin/bash
cat > log.txt <<'LOG'
2024-01-01 INFO start
2024-01-01 WARN disk
2024-01-02 INFO start
2024-01-02 ERROR crash
2024-01-02 INFO stop
2024-01-03 WARN disk
LOG
cut -d' ' -f2 log.txt | sort | uniq -c | sort -rn
cut -d' ' -f1 log.txt | uniq
cut -d' ' -f1 log.txt | uniq -d
cut -d' ' -f1 log.txt | uniq -u
cut -d' ' -f2,3 log.txt | sort -u | head -3
cut -c1-4 log.txt | uniq -c
printf 'a\nA\nb\n' | uniq -i
printf 'x 1\ny 1\nz 2\n' | uniq -f1 -c
cut -d' ' -f3- log.txt | tr '\n' ',' ; echo
