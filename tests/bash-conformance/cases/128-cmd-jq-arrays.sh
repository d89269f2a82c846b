#!/bin/bash
cat > items.json <<'EOF'
[{"id":1,"name":"pen","price":1.5,"stock":10},
 {"id":2,"name":"book","price":12,"stock":0},
 {"id":3,"name":"bag","price":30,"stock":4}]
EOF
jq -r '.[] | select(.stock > 0) | .name' items.json
jq '[.[] | .price] | add' items.json
jq -c 'map({name, total: (.price * .stock)})' items.json
jq -r '.[] | "\(.id): \(.name) $\(.price)"' items.json
jq 'sort_by(.price) | reverse | .[0].name' items.json
jq -r '.[] | [.id, .name] | @csv' items.json
jq 'length' items.json
jq '[.[] | select(.name | test("^b"))] | length' items.json
