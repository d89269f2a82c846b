#!/bin/bash
print_args() {
  echo "got $# args"
  local i=1
  for arg in "$@"; do echo "  $i: $arg"; i=$((i+1)); done
}
print_args a "b c" d
items=("x y" z)
print_args "${items[@]}"
sum_all() { local s=0; for n; do s=$((s+n)); done; echo $s; }
sum_all 1 2 3 4 5
