#!/bin/bash
helper() { echo "helping"; }
declare -F helper
declare -f helper
unset -f helper
declare -F helper || echo "helper gone"
