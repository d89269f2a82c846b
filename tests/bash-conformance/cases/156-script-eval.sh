#!/bin/bash
cmd="echo evaluated"
eval "$cmd"
for i in 1 2; do eval "var_$i=value$i"; done
echo "$var_1 $var_2"
expr='3 + 4'
eval "echo \$(( $expr ))"
