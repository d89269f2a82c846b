#!/bin/bash
printf "%d\n" "0x10"
printf "%d\n" "010"
printf "%'d\n" 1234567 2>/dev/null || true
printf "%.0f %.0f %.0f\n" 0.5 1.5 2.5
printf "%i\n" -7
printf "%u\n" 3000000000
printf "%s\n" ""
printf "[%*d]\n" 6 42
