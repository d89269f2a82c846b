#!/bin/bash
set -e
cat > check.sh <<'EOF'
exit 7
EOF
bash check.sh || echo "child failed with $?"
echo "continuing"
bash check.sh
echo "not reached"
