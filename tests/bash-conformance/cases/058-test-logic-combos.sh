#!/bin/bash
check() {
  local v=$1
  if [[ -n $v && $v -ge 1 && $v -le 10 ]]; then echo "$v in range"
  elif [[ ! $v =~ ^[0-9]+$ ]]; then echo "$v invalid"
  else echo "$v out of range"
  fi
}
check 5; check 0; check 11; check abc
[ 1 -eq 1 ] && [ 2 -eq 2 ] && echo "both"
[ 1 -eq 2 ] || [ 2 -eq 2 ] && echo "either"
! false && echo "negated"
