#!/bin/bash
printf -v padded '%05d' 42
echo "$padded"
printf -v line '%-6s|%6s|' left right
echo "$line"
printf -v joined '%s,' a b c
echo "${joined%,}"
declare -a out
printf -v 'out[1]' '%x' 255
echo "${out[1]}"
printf -v now '%s-%s' "$(printf '%02d' 7)" done
echo "$now"
printf '%s\n' "${padded}" | sed 's/^0*//'
printf -v pct '%.1f%%' 12.345
echo "$pct"
