#!/bin/bash
printf 'a.txt\nb.txt\nc.txt\n' | xargs touch
ls
echo "1 2 3 4" | xargs -n 2 echo pair:
printf 'x\ny\n' | xargs -I{} echo "item {} done"
echo "one two three" | xargs echo
find . -name '*.txt' | sort | xargs rm
ls | wc -l
printf 'f1\nf2\n' | xargs -I % sh -c 'echo % > %.out'
cat f1.out f2.out
