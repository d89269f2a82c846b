#!/bin/bash
is_leap() {
  local y=$1
  if (( (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 )); then return 0; fi
  return 1
}
for y in 1900 2000 2023 2024 2100; do
  if is_leap $y; then echo "$y: leap"; else echo "$y: common"; fi
done
