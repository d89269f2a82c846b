cat > data.csv <<'EOF'
id,name,dept,salary
1,Alice,Engineering,120000
2,Bob,Marketing,80000
3,Carol,Engineering,110000
4,Dan,Sales,70000
5,Eve,Marketing,95000
EOF

cut -d, -f2 data.csv
cut -d, -f1,3 data.csv | head -3
cut -d, -f2- data.csv | tail -1
echo "abcdefgh" | cut -c1-3
echo "abcdefgh" | cut -c4-
echo "a:b:c:d" | cut -d: -f2-3
echo "one two" | cut -d' ' -f2
