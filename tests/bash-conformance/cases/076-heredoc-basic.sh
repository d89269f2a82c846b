#!/bin/bash
name="nestbox"
cat <<EOF
Hello from $name
Today is day $((1 + 1))
Path: \$HOME stays literal
EOF
cat <<'EOF'
No expansion: $name $(date)
EOF
