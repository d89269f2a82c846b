#!/bin/bash
s="café ñandú 日本"
echo "$s"
echo "${#s}"
echo "$s" | wc -c
echo "$s" | wc -m
echo "${s^^}"
echo "$s" | cut -d' ' -f2
echo "Ünïcödé" | tr 'a-z' 'A-Z'
