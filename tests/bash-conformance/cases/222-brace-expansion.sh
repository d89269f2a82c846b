#!/bin/bash
echo {a,b,c}.txt
echo file{1..5}
echo {01..10..3}
echo {z..w}
echo pre{A,B}{1,2}post
mkdir -p out/{logs,data/{raw,clean}}
find out -type d | sort
for i in {5..1}; do printf '%s ' $i; done; echo
echo {1..3}{,}
n=4; echo {1..$n}
eval echo {1..$n}
cp -v /dev/null out/x{,.bak} 2>/dev/null; ls out | sort
