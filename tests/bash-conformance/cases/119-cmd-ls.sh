#!/bin/bash
mkdir sub
touch b.txt a.txt c.md sub/inner.txt .dotfile
ls
echo ---
ls -a
echo ---
ls -1 *.txt
echo ---
ls sub
ls -d sub
ls -A | head -3
ls missing-entry
echo "status: $?"
