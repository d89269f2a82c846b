#!/bin/bash
trap 'echo "error on line $LINENO"' ERR
echo "start"
false
echo "after false"
trap - ERR
false
echo "end"
