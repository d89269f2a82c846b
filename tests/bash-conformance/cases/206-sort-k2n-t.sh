#!/bin/bash
cat > people.csv <<'CSV'
alice,30,paris
bob,4,berlin
carol,100,rome
dave,30,athens
eve,7,oslo
CSV
sort -t, -k2,2n people.csv
echo ---
sort -t, -k2,2nr -k1,1 people.csv
echo ---
sort -t, -k3 people.csv | head -2
echo ---
printf '10 b\n2 a\n33 c\n2 b\n' | sort -k1,1n -k2,2
echo ---
printf 'x:3\ny:1\nz:2\n' | sort -t: -k2 -n | cut -d: -f1 | tr '\n' ' '; echo
sort -t, -k2,2n -u people.csv | wc -l
