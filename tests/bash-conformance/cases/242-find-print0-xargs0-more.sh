#!/bin/bash
mkdir -p src/sub
printf 'x\n' > "src/a file.txt"
printf 'yy\n' > src/sub/b.txt
printf 'zzz\n' > src/c.log
find src -name '*.txt' -print0 | sort -z | xargs -0 wc -c
find src -type f -print0 | sort -z | xargs -0 -n1 basename
find src -type f -name '*.log' -print0 | xargs -0 rm -f
find src -type f | sort
find src -type f -print0 | xargs -0 -I{} echo "file: {}" | sort
