#!/bin/bash
printf 'one two\nthree\nfour five six\n' > t.txt
wc -l t.txt
wc -w t.txt
wc -c t.txt
wc t.txt
wc -l < t.txt
echo "hello" | wc -c
printf 'x\ny\n' > u.txt
wc -l t.txt u.txt
