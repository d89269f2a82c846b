#!/bin/bash
printf 'apple 3 0.5\nbanana 12 0.25\ncherry 100 2\n' > p.txt
awk '{ printf "%-8s|%5d|%7.3f|\n", $1, $2, $3 }' p.txt
awk '{ total += $2 * $3 } END { printf "total %.2f\n", total }' p.txt
awk -F'\t' 'BEGIN { OFS="\t" } { print $2, $1 }' <<< $'x\ty'
awk -v n=3 'BEGIN { for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? "," : ""), i * i; printf "\n" }'
awk 'BEGIN { printf "%s %c %5s|%-5s|\n", "str", 65, "r", "l" }'
awk '{ print toupper(substr($1, 1, 1)) substr($1, 2), length($1) }' p.txt
awk 'BEGIN { x = sprintf("%03d-%s", 7, "z"); print x; print index("hello", "ll") }'
