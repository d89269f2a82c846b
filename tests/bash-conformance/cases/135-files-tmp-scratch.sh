#!/bin/bash
tmp=$(mktemp)
echo "scratch data" > "$tmp"
cat "$tmp"
rm -f "$tmp"
[ -e "$tmp" ] || echo "temp removed"
tdir=$(mktemp -d)
touch "$tdir/x"
ls "$tdir"
rm -rf "$tdir"
echo "done"
