#!/bin/bash
s="foo"
s+="bar"
echo "$s"
list=""
for i in 1 2 3; do
  list+="$i,"
done
echo "${list%,}"
arr=(a)
arr+=(b c)
echo "${arr[@]}"
