#!/bin/bash
seq 5
seq 2 4
seq 0 0.5 2
seq -f "item%02g" 3
seq 10 | paste - - | head -2
seq 1 3 | tac
rev <<< "stressed"
yes | head -3
