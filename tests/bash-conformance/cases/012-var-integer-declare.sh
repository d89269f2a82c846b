#!/bin/bash
declare -i n=5
n+=3
echo $n
n="2*4"
echo $n
declare -r CONST=7
echo $CONST
declare -l lower="MiXeD"
declare -u upper="MiXeD"
echo "$lower $upper"
