#!/bin/bash
mkdir -p tree/a/b tree/c
touch tree/a/f1 tree/a/b/f2 tree/c/f3 tree/top
walk() {
  local dir=$1 indent=$2
  local entry
  for entry in "$dir"/*; do
    echo "${indent}${entry##*/}"
    if [[ -d $entry ]]; then walk "$entry" "$indent  "; fi
  done
}
walk tree ""
