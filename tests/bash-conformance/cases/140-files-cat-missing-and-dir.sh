#!/bin/bash
mkdir d
cat d
echo "status: $?"
cat missing.txt
echo "status: $?"
head -1 missing.txt
echo "status: $?"
