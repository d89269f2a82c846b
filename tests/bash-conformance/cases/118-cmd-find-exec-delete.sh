#!/bin/bash
mkdir -p build/obj
touch build/a.o build/obj/b.o build/keep.c
find build -name '*.o' -delete
find build | sort
find build -type f -exec wc -c {} + | tail -1
find build -newer build/keep.c -type f | wc -l
