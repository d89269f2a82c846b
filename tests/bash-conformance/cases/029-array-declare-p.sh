#!/bin/bash
arr=(1 "two three" 4)
declare -p arr
declare -A m=([k1]=v1)
declare -p m
x=5
declare -p x
