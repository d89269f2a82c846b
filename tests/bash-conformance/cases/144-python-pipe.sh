#!/bin/bash
printf '3\n1\n2\n' | python3 -c 'import sys; print(sorted(int(l) for l in sys.stdin))'
echo '{"a": [1, 2, 3]}' | python3 -c 'import json, sys; d = json.load(sys.stdin); print(sum(d["a"]))'
seq 1 5 | python3 -c '
import sys
total = 0
for line in sys.stdin:
    total += int(line)
print("total", total)
' | tr a-z A-Z
