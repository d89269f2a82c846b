#!/bin/bash
seq 1 10 > n.txt
sed -n '3,5p' n.txt
sed '2,8d' n.txt
sed -n '/4/,/6/p' n.txt
sed 'n;d' n.txt
sed '0~3s/$/ <-/' n.txt | head -6
sed = n.txt | head -4
sed 'y/123/abc/' <<< "321"
