#!/bin/bash
read -r a b c <<< "one two three"
echo "$c $b $a"
tr 'a-z' 'A-Z' <<< "shout this"
wc -w <<< "count these four words"
grep -o '[0-9]\+' <<< "abc 123 def 45"
bc_like=$(awk '{print $1 * $2}' <<< "6 7")
echo "product: $bc_like"
