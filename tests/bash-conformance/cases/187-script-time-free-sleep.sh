#!/bin/bash
start=$SECONDS
sleep 0.2
sleep 0
elapsed=$(( SECONDS - start ))
(( elapsed < 5 )) && echo "slept briefly"
