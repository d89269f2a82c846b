#!/bin/bash
cat > inv.txt <<'EOF'
apple 10 0.5
banana 0 0.25
cherry 25 2.0
# comment line
date 5 3.0
EOF
awk '/^#/ {next} $2 == 0 {print "out of stock:", $1}' inv.txt
awk '!/^#/ {total += $2 * $3} END {printf "inventory value: %.2f\n", total}' inv.txt
awk 'NR == 2, NR == 3' inv.txt
awk '$1 ~ /^[ab]/' inv.txt
awk 'length($1) > 5' inv.txt
awk '{ $2 = $2 * 2 } 1' inv.txt | head -2
