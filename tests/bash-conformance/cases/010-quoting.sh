#!/bin/bash
a="x  y   z"
echo $a
echo "$a"
echo 'it'"'"'s'
echo "tab:\tnot-expanded"
echo $'tab:\texpanded'
echo "dollar: \$HOME backslash: \\ quote: \""
b='$(echo no)'
echo "$b"
