#!/bin/bash
echo "plain"
echo -n "no newline"
echo
echo -e "escape\ttab\nnewline"
echo -E "raw\tno escape"
echo "multiple" "args" "joined"
echo
echo -e "\e[0m" | od -c | head -1
