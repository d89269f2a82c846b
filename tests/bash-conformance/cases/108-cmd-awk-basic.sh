cat > data.csv <<'EOF'
id,name,dept,salary
1,Alice,Engineering,120000
2,Bob,Marketing,80000
3,Carol,Engineering,110000
4,Dan,Sales,70000
5,Eve,Marketing,95000
EOF

awk -F, 'NR > 1 {print $2}' data.csv
awk -F, 'NR > 1 {sum += $4} END {print "total:", sum}' data.csv
awk -F, 'NR > 1 && $4 > 90000 {print $2, $4}' data.csv
awk -F, '{print NR": "NF" fields"}' data.csv | head -2
awk -F, -v OFS='|' 'NR==1 {$1=$1; print}' data.csv
awk 'BEGIN {x = 10; y = 3; print x / y, x % y, int(x / y)}'
