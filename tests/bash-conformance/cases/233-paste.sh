#!/bin/bash
printf 'a\nb\nc\n' > l.txt
printf '1\n2\n3\n' > r.txt
paste l.txt r.txt
paste -d, l.txt r.txt
paste -s l.txt
paste -sd+ r.txt
paste -sd+ r.txt | bc
seq 1 6 | paste - -
seq 1 6 | paste -d: - - -
printf 'x\ny\n' | paste l.txt -
