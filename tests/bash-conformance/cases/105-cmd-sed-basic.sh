#!/bin/bash
printf 'hello world\nfoo bar\nhello again\n' > s.txt
sed 's/hello/HELLO/' s.txt
sed 's/o/0/g' s.txt
sed -n '2p' s.txt
sed '1d' s.txt
sed -n '/hello/p' s.txt
sed 's/\(hello\) \(.*\)/\2 \1/' s.txt
sed -E 's/([a-z]+) ([a-z]+)/\2-\1/' s.txt
sed '$a\appended line' s.txt
