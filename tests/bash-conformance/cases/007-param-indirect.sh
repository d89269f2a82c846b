#!/bin/bash
color="red"
red="#ff0000"
echo "${!color}"
prefix_a=1
prefix_b=2
for v in ${!prefix_@}; do echo "$v=${!v}"; done
declare -n ref=color
echo "ref=$ref"
ref="blue"
echo "color=$color"
