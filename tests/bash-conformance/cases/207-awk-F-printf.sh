#!/bin/bash
cat > sales.csv <<'CSV'
region,item,qty,price
north,apple,10,0.5
south,pear,3,1.25
north,pear,7,1.25
east,apple,12,0.5
CSV
awk -F, 'NR > 1 { printf "%-6s %-6s %4d %8.2f\n", $1, $2, $3, $3 * $4 }' sales.csv
awk -F, 'NR > 1 { total[$1] += $3 * $4 } END { for (r in total) printf "%s=%.2f\n", r, total[r] }' sales.csv | sort
awk -F',' -v OFS='|' 'NR==1 { $1=$1; print }' sales.csv
awk -F: '{ printf "%s has %d chars\n", $1, length($2) }' <<< "key:value"
echo "a b c" | awk '{ printf "%s-%s\n", $NF, NF }'
awk 'BEGIN { printf "%5.1f%%\n", 42.345; printf "%x %o %e\n", 255, 8, 12345.678 }'
awk -F, 'NR>1 && $3 > 5 { n++ } END { print n " rows over 5" }' sales.csv
