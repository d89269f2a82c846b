#!/bin/bash
cat > user.json <<'EOF'
{"name": "Alice", "age": 30, "tags": ["admin", "dev"], "address": {"city": "Paris"}}
EOF
jq '.name' user.json
jq -r '.name' user.json
jq '.tags[0]' user.json
jq -r '.tags[]' user.json
jq '.address.city' user.json
jq '.tags | length' user.json
jq -c '{n: .name, a: .age}' user.json
jq '.age + 1' user.json
jq 'keys' user.json
