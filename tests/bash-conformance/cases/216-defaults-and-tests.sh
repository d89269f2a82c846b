#!/bin/bash
set -u
: "${CONFIG:=app.conf}"
echo "config=$CONFIG"
echo "maybe=${MAYBE:-none}"
name=${1:-guest}
echo "hello $name"
[[ -z ${EMPTY:-} ]] && echo "EMPTY is empty"
[[ -n "$name" && "$name" != root ]] && echo "not root"
[ -d /tmp ] && echo "tmp exists"
[[ -f missing.txt ]] || echo "no missing.txt"
x=10
if [[ $x -gt 5 && $x -lt 20 ]]; then echo "in range"; fi
[[ "abc" < "abd" ]] && echo "string compare"
[[ 10 -eq 010 ]] && echo "numeric eq"
declare -i num=3+4; echo "num=$num"
set +u
