#!/bin/bash
countdown() {
  local n=$1
  while (( n > 0 )); do
    echo -n "$n... "
    ((n--))
  done
  echo "liftoff!"
}
countdown 5
countdown 0
