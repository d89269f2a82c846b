#!/bin/bash
for i in 1 2 3; do echo "list $i"; done
for i in {1..5}; do printf "%s " "$i"; done; echo
for i in {0..10..5}; do echo "step $i"; done
for ((i = 3; i > 0; i--)); do echo "countdown $i"; done
for x in {a..e}; do printf "%s" "$x"; done; echo
for w in "one two" three; do echo "[$w]"; done
