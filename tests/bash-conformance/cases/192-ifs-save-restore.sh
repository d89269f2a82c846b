#!/bin/bash
# $IFS starts as space, tab, newline; saving and restoring it keeps word splitting.
printf '%q\n' "$IFS"
old_ifs=$IFS
IFS=$'\n'
lines=($(printf 'one two\nthree four\n'))
IFS=$old_ifs
echo "${#lines[@]} lines: ${lines[1]}"
words="a b	c"
set -- $words
echo "$# words after restore"
IFS=,
csv="x,y,z"
parts=($csv)
unset IFS
echo "${#parts[@]} parts, unset IFS splits: $(set -- $words; echo $#)"
saved="${IFS-unset}"
echo "IFS is $saved"
