#!/bin/bash
true | false | true
echo "statuses: ${PIPESTATUS[@]} last=$?"
set -o pipefail
true | false | true
echo "with pipefail: $?"
(exit 3) | (exit 5) | true
s=("${PIPESTATUS[@]}")
echo "saved: ${s[*]}"
if ! grep -q nomatch <<< "text" | cat; then echo "pipeline failed"; fi
set +o pipefail
false | true
echo "off again: $?"
echo hi | { read -r x; echo "read $x"; } | cat
echo "${PIPESTATUS[*]}"
