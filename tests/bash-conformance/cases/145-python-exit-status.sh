#!/bin/bash
python3 -c 'import sys; sys.exit(3)'
echo "python exit: $?"
python3 -c 'raise SystemExit("fatal: bad input")'
echo "python exit: $?"
if python3 -c 'import sys; sys.exit(0)'; then echo "success branch"; fi
