#!/bin/bash
while getopts ":ab:" opt -x -b; do :; done
set -- -a -z -b
while getopts ":ab:" opt; do
  case $opt in
    a) echo "flag a" ;;
    b) echo "b=$OPTARG" ;;
    :) echo "option -$OPTARG needs an argument" ;;
    \?) echo "unknown option -$OPTARG" ;;
  esac
done
