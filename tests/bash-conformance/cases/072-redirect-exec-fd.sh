#!/bin/bash
exec 3> fd3.txt
echo "via fd 3" >&3
echo "more" >&3
exec 3>&-
cat fd3.txt
exec 4< fd3.txt
read -r first <&4
exec 4<&-
echo "first: $first"
