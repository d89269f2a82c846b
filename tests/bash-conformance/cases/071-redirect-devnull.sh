#!/bin/bash
echo "discarded" > /dev/null
cat /dev/null
echo "nothing above"
if grep -q pattern /dev/null; then echo "found"; else echo "not found"; fi
command -v ls > /dev/null && echo "ls available"
echo "x" 1>/dev/null 2>&1
echo "end"
