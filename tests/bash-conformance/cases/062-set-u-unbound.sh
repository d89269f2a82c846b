#!/bin/bash
set -u
defined="yes"
echo "$defined"
echo "${undefined_var:-fallback}"
echo "$undefined_var"
echo "not reached"
