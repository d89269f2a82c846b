#!/bin/bash
path="/home/user/docs/report.final.txt"
echo "${path##*/}"
echo "${path#*/}"
echo "${path%/*}"
echo "${path%%.*}"
echo "${path%.*}"
file="archive.tar.gz"
echo "base=${file%%.*} ext=${file#*.} last=${file##*.}"
