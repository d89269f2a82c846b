#!/bin/bash
echo '[{"n":"a","v":1},{"n":"b","v":2},{"n":"c","v":3}]' > in.json
echo "n,v" > out.csv
jq -r '.[] | "\(.n),\(.v)"' in.json >> out.csv
cat out.csv
echo "sum: $(tail -n +2 out.csv | cut -d, -f2 | paste -sd+ | bc 2>/dev/null || awk -F, 'NR>1{s+=$2} END{print s}' out.csv)"
