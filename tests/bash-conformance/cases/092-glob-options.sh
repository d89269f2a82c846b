#!/bin/bash
touch one.txt two.TXT .hidden
shopt -s nullglob
for f in *.md; do echo "never: $f"; done
echo "nullglob empty: [$(echo *.md)]"
shopt -u nullglob
shopt -s nocaseglob
echo *.txt
shopt -u nocaseglob
shopt -s dotglob
echo *
shopt -u dotglob
echo *
