#!/bin/bash
x=10; y=20
[ $x -lt $y ] && echo "lt"
[ $x -le 10 ] && echo "le"
[ $y -gt $x ] && echo "gt"
[ $y -ge 20 ] && echo "ge"
[ $x -eq 10 ] && echo "eq"
[ $x -ne $y ] && echo "ne"
[[ $x -lt 5 || $y -gt 15 ]] && echo "or"
[ $x -gt 5 -a $y -gt 15 ] && echo "-a"
if [ "$x" -gt 100 ]; then echo big; elif [ "$x" -gt 5 ]; then echo medium; else echo small; fi
