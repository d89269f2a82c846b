#!/bin/bash
seq 1 10 > n.txt
tail -n +3 n.txt | tr '\n' ' '; echo
tail -n +9 n.txt
seq 1 10 | tail -n +8
seq 1 10 | tail -3
seq 1 10 | tail -n 2
printf 'header\nr1\nr2\n' | tail -n +2
printf 'a\nb' | tail -n 1; echo "<"
printf 'abcdef' | tail -c 3; echo
printf 'abcdef' | tail -c +3; echo
seq 1 100000 | tail -n 2
seq 1 100000 | tail -n +99999
