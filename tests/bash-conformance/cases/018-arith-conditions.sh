#!/bin/bash
n=15
if (( n % 3 == 0 && n % 5 == 0 )); then echo "FizzBuzz"; fi
if (( n > 10 )); then echo "big"; else echo "small"; fi
(( 0 ))
echo "status of (( 0 )): $?"
(( 5 ))
echo "status of (( 5 )): $?"
count=0
while (( count < 3 )); do (( count++ )); done
echo "count=$count"
