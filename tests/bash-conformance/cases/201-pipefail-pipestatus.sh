#!/bin/bash
false | true
echo "status $? PIPESTATUS ${PIPESTATUS[*]}"
true | false | true
echo "statuses: ${PIPESTATUS[@]}"
set -o pipefail
false | true
echo "pipefail status $?"
(exit 3) | (exit 0) | true
echo "rightmost failure: $?"
printf 'a\nb\n' | grep -q z | cat
echo "grep miss: $?"
set +o pipefail
false | true
echo "off again: $?"
echo hi | { cat; exit 4; } | cat
s=("${PIPESTATUS[@]}"); echo "${s[*]}"
