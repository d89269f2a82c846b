#!/bin/bash
seq 1 200000 | awk '{ s += $1 % 100 } END { print s }'
seq 1 200000 | awk 'NR % 50000 == 0'
seq 1 200000 | awk 'END { print NR, $0 }'
seq 1 200000 | awk '$1 > 199998 { print "big", $1 }'
seq 1 200000 | awk 'NR == 3 { print; exit }'
seq 1 5 | awk '{ printf "%s%s", sep, $1; sep = "," } END { print "" }'
