#!/bin/bash
parse() {
  local OPTIND opt verbose=0 output="" 
  while getopts "vo:h" opt; do
    case $opt in
      v) verbose=1 ;;
      o) output=$OPTARG ;;
      h) echo "usage"; return 0 ;;
      *) echo "bad option"; return 1 ;;
    esac
  done
  shift $((OPTIND - 1))
  echo "verbose=$verbose output=$output rest=$*"
}
parse -v -o out.txt file1 file2
parse -o x
parse file
