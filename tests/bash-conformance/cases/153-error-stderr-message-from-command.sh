#!/bin/bash
grep -E '(' /dev/null
echo "grep status: $?"
sort --no-such-option 2>/dev/null
echo "sort status: $?"
