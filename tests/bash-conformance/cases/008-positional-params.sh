#!/bin/bash
set -- one "two words" three
echo "count: $#"
echo "first: $1"
echo "second: $2"
for a in "$@"; do echo "arg: $a"; done
for a in $*; do echo "word: $a"; done
shift
echo "after shift: $1 ($#)"
echo "all: $*"
