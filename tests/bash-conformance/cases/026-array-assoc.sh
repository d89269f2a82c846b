#!/bin/bash
declare -A ages
ages[alice]=30
ages[bob]=25
ages["carol smith"]=35
echo "alice is ${ages[alice]}"
echo "count: ${#ages[@]}"
for k in $(printf '%s\n' "${!ages[@]}" | sort); do :; done
while IFS= read -r k; do
  echo "$k -> ${ages[$k]}"
done < <(printf '%s\n' "${!ages[@]}" | sort)
if [[ -v ages[bob] ]]; then echo "bob exists"; fi
unset 'ages[bob]'
[[ -v ages[bob] ]] || echo "bob removed"
