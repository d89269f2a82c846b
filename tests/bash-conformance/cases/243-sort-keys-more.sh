#!/bin/bash
cat > data.csv <<'D'
bob,25,paris
alice,30,berlin
carol,25,amsterdam
dave,5,rome
D
sort -t, -k2,2n data.csv
echo ---
sort -t, -k2,2n -k1,1 data.csv
echo ---
sort -t, -k2,2nr -k3 data.csv
echo ---
sort -t, -k3 data.csv | cut -d, -f3
sort -t, -u -k2,2n data.csv | cut -d, -f2
printf '10\n9\n100\n' | sort -n | tail -1
printf 'b 2\na 10\nc 1\n' | sort -k2 -n
