#!/bin/bash
set -euo pipefail
echo "strict mode"
count=$(printf 'a\nb\n' | wc -l)
echo "lines: $count"
data=$(echo "x" | grep y | wc -l)
echo "never printed: $data"
