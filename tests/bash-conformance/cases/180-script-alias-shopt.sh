#!/bin/bash
shopt -s expand_aliases
alias ll='echo listing'
ll
unalias ll
shopt -q expand_aliases && echo "expand_aliases on"
shopt -q nullglob || echo "nullglob off"
