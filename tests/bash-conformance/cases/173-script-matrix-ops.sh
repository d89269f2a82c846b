#!/bin/bash
declare -a A=(1 2 3 4) B=(5 6 7 8)
# 2x2 multiply
C0=$(( A[0]*B[0] + A[1]*B[2] )); C1=$(( A[0]*B[1] + A[1]*B[3] ))
C2=$(( A[2]*B[0] + A[3]*B[2] )); C3=$(( A[2]*B[1] + A[3]*B[3] ))
echo "$C0 $C1"
echo "$C2 $C3"
echo "trace: $((C0 + C3))"
