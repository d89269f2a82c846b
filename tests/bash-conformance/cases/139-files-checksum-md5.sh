#!/bin/bash
echo "hello" > h.txt
md5sum h.txt
sha256sum h.txt
echo -n "abc" | sha1sum
