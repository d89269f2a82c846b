#!/bin/bash
pwd
mkdir -p deep/er
cd deep/er
pwd
basename "$(pwd)"
cd ..
pwd
cd - > /dev/null
pwd
cd
echo "HOME is $HOME and pwd is $(pwd)"
env -i FOO=bar bash -c 'echo "clean env: $FOO ${PATH:+has-path}"' 2>/dev/null || echo "env -i failed"
env FOO=1 BAR=2 sh -c 'echo $FOO$BAR'
