#!/bin/bash
true
echo "status after true: $?"
false
echo "status after false: $?"
(exit 42)
echo "status after subshell: $?"
echo "script name ends with: ${0##*/}"
echo "no args: $#"
