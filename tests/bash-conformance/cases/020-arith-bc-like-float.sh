#!/bin/bash
# bash has no floats: LLMs use awk or printf
a=7; b=2
echo "integer: $((a / b))"
awk -v a="$a" -v b="$b" 'BEGIN { printf "float: %.2f\n", a / b }'
printf "%.3f\n" 3.14159
ratio=$(awk 'BEGIN { print 22/7 }')
echo "ratio=$ratio"
