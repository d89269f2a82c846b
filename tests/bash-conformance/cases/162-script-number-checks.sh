#!/bin/bash
is_number() { [[ $1 =~ ^-?[0-9]+$ ]]; }
for v in 42 -7 3.5 abc ""; do
  if is_number "$v"; then echo "'$v' is an integer"; else echo "'$v' is not an integer"; fi
done
gcd() { local a=$1 b=$2; while (( b )); do local t=$b; b=$((a % b)); a=$t; done; echo $a; }
echo "gcd(48, 18) = $(gcd 48 18)"
to_binary() { local n=$1 out=""; while (( n > 0 )); do out="$((n % 2))$out"; n=$((n / 2)); done; echo "${out:-0}"; }
for n in 0 5 10 255; do echo "$n -> $(to_binary $n)"; done
sum_digits() { local n=$1 s=0; while (( n > 0 )); do s=$((s + n % 10)); n=$((n / 10)); done; echo $s; }
echo "digits of 98765 sum to $(sum_digits 98765)"
