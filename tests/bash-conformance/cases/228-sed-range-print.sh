#!/bin/bash
cat > log.txt <<'L'
intro
BEGIN
one
two
END
middle
BEGIN
three
END
outro
L
sed -n '/BEGIN/,/END/p' log.txt
echo ---
sed -n '/BEGIN/,/END/{/BEGIN/d;/END/d;p}' log.txt
echo ---
sed '/BEGIN/,/END/d' log.txt
echo ---
sed -n '2,4p' log.txt
sed -n '/middle/,$p' log.txt | head -2
sed -n '0,/BEGIN/p' log.txt
