#!/bin/bash
echo "Hello World" | tr 'a-z' 'A-Z'
echo "Hello World" | tr '[:upper:]' '[:lower:]'
echo "a  b   c" | tr -s ' '
echo "remove digits 123" | tr -d '0-9'
echo "hello" | tr 'el' 'ip'
echo "path/to/file" | tr '/' '\n'
printf 'a\nb\nc\n' | tr '\n' ','; echo
echo "keep only letters 42!" | tr -cd 'a-z\n'
