#!/bin/bash
touch b.txt a.py c.txt .hidden z.sh
mkdir zdir adir
touch adir/inner.txt
ls *.txt *.py
echo ---
ls z.sh zdir b.txt adir
echo ---
ls -a
echo ---
ls -A
echo ---
ls -1 adir
ls missing.txt a.py
echo "status: $?"
