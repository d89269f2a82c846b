#!/bin/bash
while IFS='=' read -r key value; do
  [[ -z $key || $key == \#* ]] && continue
  echo "key=[$key] value=[$value]"
done <<'EOF'
# comment
host=example.org
port=443

mode=strict
EOF
