#!/bin/bash
mkdir -p src/lib/util
touch src/main.py src/lib/a.py src/lib/util/b.py src/readme.md
shopt -s globstar
for f in src/**/*.py; do echo "$f"; done
echo src/*/
