#!/bin/bash
seq 1 10 > all.txt
head -n 5 all.txt > part1.txt
tail -n 5 all.txt > part2.txt
cat part1.txt part2.txt > joined.txt
cmp -s all.txt joined.txt && echo "identical"
paste -d, part1.txt part2.txt
diff all.txt joined.txt && echo "no diff"
