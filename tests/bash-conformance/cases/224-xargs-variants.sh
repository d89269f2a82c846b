#!/bin/bash
seq 1 7 | xargs -n 3 echo
echo "a b c d" | xargs -n 2
printf 'one\ntwo\n' | xargs -I{} echo "item {} done"
printf 'x.txt\ny.txt\n' | xargs touch; ls *.txt
echo "x.txt y.txt" | xargs rm -v | sort
seq 1 3 | xargs -I % sh -c 'echo square $((% * %))'
echo "  spaced   args  " | xargs echo "[" | xargs
printf '%s\n' a b c | xargs echo prefix
