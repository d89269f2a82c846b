cat > data.csv <<'EOF'
id,name,dept,salary
1,Alice,Engineering,120000
2,Bob,Marketing,80000
3,Carol,Engineering,110000
4,Dan,Sales,70000
5,Eve,Marketing,95000
EOF

grep Engineering data.csv
grep -c Marketing data.csv
grep -i alice data.csv
grep -v Engineering data.csv
grep -n Sales data.csv
grep -w Bob data.csv
grep -E '^[0-9]+,(Alice|Eve),' data.csv
grep -o '[0-9]\{5,\}' data.csv
grep -q Zed data.csv || echo "no Zed"
