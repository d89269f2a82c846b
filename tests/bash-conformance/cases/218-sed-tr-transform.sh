#!/bin/bash
cat > conf.txt <<'C'
# comment
host = example.com
port = 8080

debug = true
C
sed -e '/^#/d' -e '/^$/d' -e 's/ *= */=/' conf.txt
sed -n 's/^port *= *//p' conf.txt
sed -E 's/([a-z]+) = (.*)/\2 <- \1/' conf.txt | grep '<-'
sed '2,3!d' conf.txt
sed -i.bak 's/8080/9090/' conf.txt && grep port conf.txt && ls conf.txt*
echo "Hello World" | tr '[:lower:]' '[:upper:]'
echo "a-b_c d" | tr -d '_-'
echo "aaabbbccc" | tr -s 'ab'
echo "hello" | sed 's/./\U&/'
printf 'l1\nl2\nl3\n' | sed '1i\header' | sed '$a\footer'
