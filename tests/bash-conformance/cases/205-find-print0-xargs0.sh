#!/bin/bash
mkdir -p proj/src proj/docs
echo 'int main' > "proj/src/main file.c"
echo 'util' > proj/src/util.c
echo 'doc' > proj/docs/readme.md
find proj -name '*.c' -print0 | sort -z | xargs -0 wc -l
find proj -type f -print0 | xargs -0 -n 1 basename | sort
find proj -name '*.md' -print0 | xargs -0 grep -l doc
find proj -type f | sort | xargs -I{} echo "file: {}"
printf '%s\0' one two three | xargs -0 echo
