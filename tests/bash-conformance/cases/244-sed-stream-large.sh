#!/bin/bash
seq 1 200000 | sed 's/1/x/' | tail -1
seq 1 200000 | sed -n '$p'
seq 1 200000 | sed -n '199998,$p'
seq 1 200000 | sed '3q'
seq 1 200000 | sed -n '/^15000$/,/^15002$/p'
seq 1 10 | sed '$!d'
