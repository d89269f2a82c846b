#!/bin/bash
declare -A stock=([apples]=5 [pears]=0 [plums]=12)
declare -A price=([apples]=3 [pears]=4 [plums]=1)
total=0
for item in apples pears plums; do
  value=$(( stock[$item] * price[$item] ))
  total=$(( total + value ))
  status="in stock"; (( stock[$item] == 0 )) && status="SOLD OUT"
  printf "%-7s qty=%-3d value=%-3d %s\n" "$item" "${stock[$item]}" "$value" "$status"
done
echo "total value: $total"
