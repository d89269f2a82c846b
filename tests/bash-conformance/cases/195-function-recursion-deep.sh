#!/bin/bash
countdown() {
  if (( $1 == 0 )); then echo "reached bottom"; return 0; fi
  countdown $(( $1 - 1 ))
}
countdown 1000
depth() {
  local n=$1
  if (( n >= 1200 )); then echo "$n"; return; fi
  depth $(( n + 1 ))
}
echo "depth: $(depth 0)"
fact() { if (( $1 <= 1 )); then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
echo "20! = $(fact 20)"
fib() { local n=$1; if (( n < 2 )); then echo $n; return; fi; echo $(( $(fib $((n-1))) + $(fib $((n-2))) )); }
echo "fib 12 = $(fib 12)"
sum_to() { local n=$1 acc=$2; if (( n == 0 )); then echo "$acc"; else sum_to $((n-1)) $((acc+n)); fi; }
sum_to 2000 0
