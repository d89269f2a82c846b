#!/bin/bash
dates=("2024-01-15" "15/01/2024" "2023-12-31")
for d in "${dates[@]}"; do
  if [[ $d =~ ^([0-9]{4})-([0-9]{2})-([0-9]{2})$ ]]; then
    echo "$d -> year=${BASH_REMATCH[1]} month=${BASH_REMATCH[2]} day=${BASH_REMATCH[3]}"
  else
    echo "$d -> no match"
  fi
done
email="user@example.com"
re='^[a-z]+@[a-z]+\.[a-z]{2,}$'
[[ $email =~ $re ]] && echo "valid email"
