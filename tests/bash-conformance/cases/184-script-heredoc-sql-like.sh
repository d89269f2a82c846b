#!/bin/bash
table="users"
limit=10
query=$(cat <<SQL
SELECT id, name
FROM $table
WHERE active = 1
LIMIT $limit;
SQL
)
echo "$query"
echo "lines: $(echo "$query" | wc -l)"
