#!/bin/bash
seq 1 1000000 | sed -n '3p;3q'
seq 1 1000000 | awk 'NR == 2 { print; exit 0 }'
seq 1 1000000 | head -n 2 | sed 's/^/line /'
yes abc | sed 2q
yes | awk 'NR > 2 { exit } { print NR ": " $0 }'
echo "status ${PIPESTATUS[*]}"
