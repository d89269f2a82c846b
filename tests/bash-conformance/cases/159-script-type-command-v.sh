#!/bin/bash
myfunc() { :; }
type myfunc | head -1
type -t myfunc
type -t echo
type -t if
command -v echo
if command -v jq > /dev/null; then echo "jq found"; fi
if ! command -v definitely-not-a-command > /dev/null 2>&1; then echo "missing command detected"; fi
