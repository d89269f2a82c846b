#!/bin/bash
python3 -c 'print("hello from python")'
python3 -c 'import sys; print(sum(range(10)))'
result=$(python3 -c 'print(6 * 7)')
echo "bash got: $result"
