#!/bin/bash
x="global"
f() {
  local x="local"
  y="set-in-f"
  echo "inside: $x"
}
f
echo "outside: $x"
echo "y: $y"
counter=0
inc() { counter=$((counter + 1)); }
inc; inc; inc
echo "counter: $counter"
