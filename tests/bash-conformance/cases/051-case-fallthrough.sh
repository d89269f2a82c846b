#!/bin/bash
for x in a b c; do
  case $x in
    a) echo "a matched" ;&
    b) echo "a or b body" ;;
    c) echo "c matched" ;;&
    *) echo "default for $x" ;;
  esac
done
