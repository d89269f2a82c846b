#!/bin/sh
# Run the Python data-science conformance corpus through nestbox: see run.py for the options.
#   tests/python-conformance/run.sh [NESTBOX] [--threshold 97] [--jobs 2] [--only NAME]
exec python3 "$(dirname "$0")/run.py" "$@"
