#!/bin/bash
mkdir -p somedir
echo "content" > file.txt
: > empty.txt
[ -e file.txt ] && echo "exists"
[ -f file.txt ] && echo "regular file"
[ -d somedir ] && echo "directory"
[ -s file.txt ] && echo "non-empty"
[ -s empty.txt ] || echo "empty file"
[ -e missing.txt ] || echo "missing"
[ ! -d file.txt ] && echo "not a dir"
[[ -r file.txt && -w file.txt ]] && echo "readable and writable"
if [ -f config.ini ]; then echo "have config"; else echo "no config"; fi
