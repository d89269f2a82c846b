#!/bin/bash
parse() {
  local OPTIND opt verbose=0 out="" level=1
  while getopts ":vo:l:" opt; do
    case $opt in
      v) verbose=1 ;;
      o) out=$OPTARG ;;
      l) level=$OPTARG ;;
      :) echo "missing argument for -$OPTARG"; return 2 ;;
      \?) echo "unknown option -$OPTARG"; return 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  echo "verbose=$verbose out=$out level=$level rest=$*"
}
parse -v -o file.txt a b
parse -vl3 -- -x y
parse -o
parse -z
parse plain args
