#!/bin/bash
set -- --name=demo -v --count 3 extra1 extra2
name="" verbose=false count=1 rest=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name=*) name="${1#*=}"; shift ;;
    -v|--verbose) verbose=true; shift ;;
    --count) count="$2"; shift 2 ;;
    --) shift; break ;;
    *) rest+=("$1"); shift ;;
  esac
done
echo "name=$name verbose=$verbose count=$count rest=${rest[*]}"
