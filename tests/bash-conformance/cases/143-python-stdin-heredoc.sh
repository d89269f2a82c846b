#!/bin/bash
name="bash"
python3 - <<EOF
greeting = "hello from $name"
print(greeting.upper())
for i in range(3):
    print(i * i)
EOF
echo "exit: $?"
