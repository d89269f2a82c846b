#!/bin/bash
cat > analyze.py <<'EOF'
import json
data = {"values": [3, 1, 4, 1, 5, 9, 2, 6]}
vals = sorted(data["values"])
print("sorted:", vals)
print("max:", max(vals))
with open("out.json", "w") as f:
    json.dump({"n": len(vals)}, f)
EOF
python3 analyze.py
cat out.json; echo
jq .n out.json
