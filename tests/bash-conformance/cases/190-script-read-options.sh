#!/bin/bash
IFS= read -r line <<< "  leading and trailing  "
echo "[$line]"
read -r line <<< "  leading and trailing  "
echo "[$line]"
read -r -a arr <<< "x y z"
echo "${arr[1]}"
read -r -n 3 part <<< "abcdef"
echo "$part"
read -r -d ';' first <<< "one;two"
echo "$first"
printf 'a b\n' | { read -r x y; echo "$y $x"; }
