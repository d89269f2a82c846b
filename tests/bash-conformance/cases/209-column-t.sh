#!/bin/bash
printf 'name age city\nalice 30 paris\nbob 4 berlin\n' | column -t
echo ---
printf 'a,b,c\nlonger,x,y\n' | column -t -s,
echo ---
cat > t.txt <<'T'
id|status|owner
1|open|ann
22|closed|bartholomew
T
column -t -s'|' t.txt
