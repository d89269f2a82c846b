#!/bin/bash
classify() {
  case $1 in
    '') echo "empty" ;;
    *[!0-9]*) echo "$1: not a number" ;;
    0) echo "zero" ;;
    [1-9]) echo "$1: single digit" ;;
    *) echo "$1: multi digit" ;;
  esac
}
for v in "" 0 7 42 abc 3x; do classify "$v"; done
for f in a.txt b.tar.gz c.sh d; do
  case $f in
    *.tar.gz) echo "$f: tarball" ;;
    *.txt|*.md) echo "$f: text" ;;
    *.sh) echo "$f: script" ;;
    *) echo "$f: other" ;;
  esac
done
