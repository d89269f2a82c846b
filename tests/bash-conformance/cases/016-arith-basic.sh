#!/bin/bash
a=17; b=5
echo "$((a + b)) $((a - b)) $((a * b)) $((a / b)) $((a % b))"
echo $((2 ** 10))
echo $(( (a + b) * 2 ))
echo $((-a / b)) $((-a % b))
((a++))
echo $a
((b += 10))
echo $b
echo $((a > b ? a : b))
