#!/bin/bash
python3 -c '
with open("numbers.txt", "w") as f:
    for i in range(1, 6):
        f.write(f"{i}\n")
'
echo "lines: $(wc -l < numbers.txt)"
paste -sd+ numbers.txt | python3 -c 'import sys; print(eval(sys.stdin.read()))'
