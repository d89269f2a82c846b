#!/bin/bash
mkdir a
mkdir -p a/b/c
[ -d a/b/c ] && echo "nested created"
mkdir a 2>&1
echo "status: $?"
touch a/b/c/file
rm a/b/c/file
rmdir a/b/c
ls a/b
rm -r a
[ -e a ] || echo "removed"
rm nothing-here
echo "status: $?"
rm -f nothing-here
echo "rm -f status: $?"
mkdir -pv x/y | head -5
