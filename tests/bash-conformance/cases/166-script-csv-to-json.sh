#!/bin/bash
cat > people.csv <<'EOF'
name,age,city
Ann,31,Oslo
Ben,27,Lima
EOF
{
  echo "["
  first=1
  tail -n +2 people.csv | while IFS=, read -r name age city; do
    if [ $first -eq 0 ]; then echo ","; fi
    first=0
    printf '  {"name": "%s", "age": %d, "city": "%s"}' "$name" "$age" "$city"
  done
  echo
  echo "]"
} > people.json
cat people.json
jq -r '.[] | .name + " from " + .city' people.json
