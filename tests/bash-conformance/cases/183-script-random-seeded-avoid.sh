#!/bin/bash
# deterministic "random": seeded LCG in pure bash
seed=42
rand() { seed=$(( (seed * 1103515245 + 12345) % 2147483648 )); echo $(( seed % 100 )); }
for i in 1 2 3 4 5; do rand; done
