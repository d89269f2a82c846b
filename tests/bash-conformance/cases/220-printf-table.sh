#!/bin/bash
printf '%-10s|%8s|%6s\n' Item Price Qty
printf '%-10s|%8.2f|%6d\n' Widget 3.5 10 Gadget 12.999 3 "Long name" 0.1 1000
printf '%s\n' ----------
printf '%03d|%+d|% d|%x|%X|%o|%e\n' 7 5 5 255 255 8 1234.5
printf '%5s|%-5s|%.2s\n' ab ab abcdef
printf '%b\n' 'tab:\there' 'nl:\\n'
printf '%q\n' "it's" 'a b' '$x'
printf '%c%c\n' hello world
printf '%%literal %s\n' ok
printf '[%*d]\n' 6 42
printf '%s=%s\n' a 1 b 2 c
