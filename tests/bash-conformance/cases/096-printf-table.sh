#!/bin/bash
printf "%-10s %5s %8s\n" "Name" "Qty" "Price"
printf "%-10s %5d %8.2f\n" "Widget" 3 4.5 "Gadget" 12 19.99 "Doohickey" 100 0.5
printf '%s\n' ---
printf "%03d\n" 7 42
printf -v padded "%08.3f" 3.14159
echo "padded=$padded"
