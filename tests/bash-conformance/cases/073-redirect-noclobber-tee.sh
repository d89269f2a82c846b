#!/bin/bash
echo "hello" | tee copy.txt
echo "again" | tee -a copy.txt > /dev/null
cat copy.txt
set -o noclobber
echo "x" > copy.txt 2>/dev/null || echo "noclobber prevented overwrite"
echo "forced" >| copy.txt
cat copy.txt
