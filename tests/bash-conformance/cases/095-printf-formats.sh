#!/bin/bash
printf "%s\n" "plain"
printf "%5s|%-5s|\n" ab cd
printf "%d %05d %+d %x %X %o\n" 42 42 42 255 255 8
printf "%.2f %8.3f %e\n" 3.14159 2.5 12345.678
printf "%c%c\n" A B
printf "%%literal\n"
printf "%s-%s\n" a b c d
printf "%b\n" "tab:\there"
printf "%q\n" "needs quoting; yes"
