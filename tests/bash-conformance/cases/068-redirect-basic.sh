#!/bin/bash
echo "line 1" > out.txt
echo "line 2" >> out.txt
cat out.txt
echo "overwrite" > out.txt
cat out.txt
wc -l < out.txt
