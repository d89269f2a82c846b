#!/bin/bash
for i in $(seq 2 3 14); do echo -n "$i "; done; echo
seq -s, 1 5
seq 3
seq -w 8 11
seq 5 -2 1
