#!/bin/bash
declare -A ports=([http]=80 [https]=443 [ssh]=22)
for name in $(echo "${!ports[@]}" | tr ' ' '\n' | sort); do
  printf '%-6s %s\n' "$name" "${ports[$name]}"
done
ports[dns]=53
echo "count ${#ports[@]}"
sum=0; for v in "${ports[@]}"; do sum=$((sum + v)); done; echo "sum $sum"
declare -A copy
for k in "${!ports[@]}"; do copy[$k]=${ports[$k]}; done
echo "copy has ${#copy[@]}"
declare -p ports | grep -o 'declare -A ports' 
[[ ${ports[ftp]+set} ]] || echo "ftp not set"
