#!/bin/bash
add() { echo $(( $1 + $2 )); }
result=$(add 3 4); echo "3+4=$result"
is_even() { (( $1 % 2 == 0 )); }
for n in 1 2 3 4; do is_even $n && echo "$n even" || echo "$n odd"; done
set_var() { local -n ref=$1; ref="set by function"; }
set_var target; echo "$target"
fill() { local -n arr=$1; arr=(x y z); }
fill mylist; echo "${mylist[@]}"
counter=0; incr() { counter=$((counter + 1)); }; incr; incr; echo "counter=$counter"
scope() { local counter=100; echo "inner=$counter"; }; scope; echo "outer=$counter"
status() { return 42; }; status; echo "returned $?"
greet() { echo "args=$# first=${1:-} all=$*"; }; greet a "b c" d
declare -f add | head -1
