#!/bin/bash
files=$(printf 'x\ny\n')
echo "files: $files"
echo "upper: $(echo hello | tr a-z A-Z)"
n=`echo 42`
echo "backticks: $n"
nested=$(echo "outer $(echo "inner $(echo deep)")")
echo "$nested"
trailing=$(printf 'a\n\n\n')
echo "[${trailing}]"
