#!/bin/bash
printf 'pear 3\napple 10\nfig 2\nbanana 10\nApple 1\n' > f.txt
sort f.txt
echo ---
sort -r f.txt
echo ---
sort -k2 -n f.txt
echo ---
sort -k2,2nr -k1,1 f.txt
echo ---
printf '10\n9\n100\n1\n' | sort -n
printf 'b\na\nb\nc\na\n' | sort -u
printf '1.5K\n200\n3M\n' | sort -h
printf 'x,3\ny,1\nz,2\n' | sort -t, -k2
