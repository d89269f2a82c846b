#!/bin/bash
touch new.txt
[ -f new.txt ] && echo "created"
[ -s new.txt ] || echo "empty"
printf '12345' > five.txt
echo "size: $(wc -c < five.txt)"
du -b five.txt 2>/dev/null | cut -f1 || true
stat -c %s five.txt
