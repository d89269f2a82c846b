#!/bin/bash
echo "Choose an option:"
echo "1) start"
echo "2) stop"
if read -r choice; then
  echo "chose $choice"
else
  echo "no input, defaulting to 1"
  choice=1
fi
case $choice in 1) echo "starting" ;; 2) echo "stopping" ;; esac
read -r -p "Name? " name || true
echo "name=[${name:-}]"
