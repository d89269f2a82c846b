#!/bin/bash
parse() {
  local OPTIND opt verbose=0 output="" count=1
  while getopts ":vo:n:" opt; do
    case $opt in
      v) verbose=1 ;;
      o) output=$OPTARG ;;
      n) count=$OPTARG ;;
      :) echo "missing argument for -$OPTARG"; return 1 ;;
      \?) echo "unknown option -$OPTARG"; return 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  echo "verbose=$verbose output=$output count=$count rest=$*"
}
parse -v -o out.txt file1 file2
parse -n 3 -vo x.log
parse -x
echo "status $?"
parse -o
echo "status $?"
parse -- -v
set -- -a -b value last
while getopts "ab:" o; do echo "opt $o ${OPTARG:-}"; done
echo "OPTIND=$OPTIND remaining: ${@:OPTIND}"
