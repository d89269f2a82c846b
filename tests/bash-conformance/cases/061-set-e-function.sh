#!/bin/bash
set -e
step() { echo "step $1"; return "$2"; }
step 1 0
step 2 0 && true
result=$(step 3 0)
echo "captured: $result"
step 4 3
echo "never"
