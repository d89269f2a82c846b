#!/bin/bash
mkdir -p inner
(cd inner && pwd && touch made-in-subshell)
pwd
ls inner
x=1
(x=2; echo "subshell x=$x")
echo "parent x=$x"
