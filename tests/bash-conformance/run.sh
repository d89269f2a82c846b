#!/bin/sh
# Run the bash conformance corpus through nestbox: see run.py for the options.
#   tests/bash-conformance/run.sh [NESTBOX] [--threshold 95] [--jobs 2] [--only NAME]
exec python3 "$(dirname "$0")/run.py" "$@"
