#!/bin/bash
x="a b"
[ -n $x ] 2>/dev/null
echo "unquoted status: $?"
[ "$x" == "a b" ] && echo "quoted ok"
[[ $x == "a b" ]] && echo "double bracket ok"
[ 5 -gt ] 2>&1
echo "status: $?"
