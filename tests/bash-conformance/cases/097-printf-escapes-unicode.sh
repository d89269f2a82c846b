#!/bin/bash
printf "a\tb\n"
printf 'line1\nline2\n'
printf "\x41\x42\n"
printf "\101\n"
printf "%s\n" "héllo wörld"
s="naïve"
echo "${#s}"
printf "%5.2s|\n" "abc"
echo -e "e-flag:\tok"
echo -n "no newline"; echo " done"
