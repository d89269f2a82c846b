#!/bin/bash
s="Hello, World"
echo "${#s}"
echo "${s:0:5}"
echo "${s:7}"
echo "${s: -5}"
echo "${s:(-5):3}"
arr=(a bb ccc)
echo "${#arr[@]} ${#arr[2]}"
