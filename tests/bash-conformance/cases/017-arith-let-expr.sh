#!/bin/bash
let x=5*3
echo $x
let "y = x / 2"
echo $y
i=0
let i++
let i+=4
echo $i
echo $(( 0x1F )) $(( 8#17 )) $(( 2#1011 ))
echo $(( 7 & 3 )) $(( 7 | 8 )) $(( 7 ^ 2 )) $(( 1 << 4 )) $(( 256 >> 2 ))
