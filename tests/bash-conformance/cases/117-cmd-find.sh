#!/bin/bash
mkdir -p proj/src proj/test proj/docs
touch proj/src/main.py proj/src/util.py proj/test/test_main.py proj/docs/readme.md proj/setup.cfg
find proj -type f | sort
echo ---
find proj -name '*.py' | sort
echo ---
find proj -type d | sort
echo ---
find proj -maxdepth 1 | sort
echo ---
find proj -name '*.md' -o -name '*.cfg' | sort
find proj -type f -name 'test_*' -exec echo "found {}" \;
find proj -empty -type f | wc -l
