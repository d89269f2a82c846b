#!/bin/bash
echo "original" > src.txt
cp src.txt dst.txt
cat dst.txt
mkdir backup
cp src.txt dst.txt backup/
ls backup
mv dst.txt moved.txt
ls
mv moved.txt backup/
ls backup
cp -r backup backup2
ls backup2
mv backup2 archive
ls
cp missing.txt x.txt
echo "status: $?"
