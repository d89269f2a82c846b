#!/bin/bash
{
  echo "NAME SIZE TYPE"
  echo "a.txt 12 file"
  echo "subdir 4096 dir"
  echo "long_name.tar.gz 1048576 file"
} | column -t
echo ---
printf 'k=v\nlonger_key=value2\n' | column -t -s=
echo ---
printf 'x y\n\nz w\n' | column -t
