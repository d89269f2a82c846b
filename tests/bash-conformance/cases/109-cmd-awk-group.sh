cat > data.csv <<'EOF'
id,name,dept,salary
1,Alice,Engineering,120000
2,Bob,Marketing,80000
3,Carol,Engineering,110000
4,Dan,Sales,70000
5,Eve,Marketing,95000
EOF

awk -F, 'NR > 1 {dept[$3] += $4; n[$3]++} END {for (d in dept) printf "%s %d %.1f\n", d, dept[d], dept[d]/n[d]}' data.csv | sort
awk -F, 'NR > 1 {if ($4 > max) {max = $4; who = $2}} END {print who, max}' data.csv
