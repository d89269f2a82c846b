#!/bin/bash
factorial() {
  local n=$1
  if (( n <= 1 )); then echo 1; return; fi
  local prev
  prev=$(factorial $((n - 1)))
  echo $((n * prev))
}
echo "5! = $(factorial 5)"
echo "10! = $(factorial 10)"
fib() {
  local a=0 b=1 i
  for ((i = 0; i < $1; i++)); do
    local t=$((a + b)); a=$b; b=$t
  done
  echo $a
}
for n in 0 1 2 10 20 50; do echo "fib($n)=$(fib $n)"; done
