#!/bin/bash
mkdir -p data backups
echo "v1" > data/file.txt
for n in 1 2 3 4; do
  echo "v$n" > data/file.txt
  tar -cf "backups/backup-$n.tar" data 2>/dev/null || cp -r data "backups/backup-$n"
done
ls backups | wc -l
keep=2
ls backups | sort | head -n -$keep | while read -r old; do rm -rf "backups/$old"; done
ls backups
