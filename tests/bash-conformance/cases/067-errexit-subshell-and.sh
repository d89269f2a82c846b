#!/bin/bash
set -e
(false; echo "not in subshell")  || echo "subshell failed"
true && false || echo "and-or ok"
for i in 1 2; do echo "loop $i"; done
! true
echo "negation does not exit"
