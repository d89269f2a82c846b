#!/bin/bash
echo "a b c" | tr ' ' '\n' | wc -l
true | false
echo "last status: $?"
false | true
echo "status: $?"
echo hi | { read -r x; echo "read: $x"; }
echo "pipestatus test"
true | false | true
echo "${PIPESTATUS[@]}"
