#!/bin/bash
shopt -s extglob
for f in main.c util.h notes.txt Makefile image.PNG run.sh; do
  case $f in
    *.c|*.h) echo "$f: C source" ;;
    *.@(png|PNG|jpg)) echo "$f: image" ;;
    Makefile) echo "$f: build" ;;
    *.sh) echo "$f: script" ;;
    *) echo "$f: other" ;;
  esac
done
touch a.log b.log keep.txt
ls !(*.log)
answer=Yes
case ${answer,,} in y|yes) echo "confirmed";; *) echo "no";; esac
n=42
case $n in [0-9]) echo one digit;; [0-9][0-9]) echo two digits;; esac
[[ "file123" == file+([0-9]) ]] && echo "extglob match"
