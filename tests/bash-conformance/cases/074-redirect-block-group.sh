#!/bin/bash
{
  echo "# header"
  for i in 1 2 3; do echo "row $i"; done
  echo "# footer"
} > report.txt
cat report.txt
while read -r line; do echo "> $line"; done < report.txt > quoted.txt
tail -n 2 quoted.txt
