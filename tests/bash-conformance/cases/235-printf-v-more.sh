#!/bin/bash
for i in 1 2 3; do
  printf -v "var_$i" 'item-%03d' "$i"
done
echo "$var_1 $var_2 $var_3"
printf -v sep '%*s' 10 ''
echo "[${sep// /-}]"
printf -v hex '%02x' 10 255 16
echo "$hex"
printf -v q '%q' "a b'c"
echo "$q"
f() { local out; printf -v out '%s/%s' "$1" "$2"; echo "$out"; }
f usr bin
printf -v date_str '%(%Y)T' 0
echo "epoch year: $date_str"
