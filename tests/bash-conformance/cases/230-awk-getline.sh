#!/bin/bash
printf 'k1 v1\nk2 v2\n' > map.txt
printf 'k2\nk1\nk3\n' > keys.txt
awk 'BEGIN { while ((getline line < "map.txt") > 0) { split(line, p, " "); m[p[1]] = p[2] } }
     { print $1, ($1 in m ? m[$1] : "missing") }' keys.txt
printf 'h1\nd1\nh2\nd2\n' | awk '{ hdr = $0; getline; print hdr " -> " $0 }'
printf '1\n2\n3\n' | awk 'NR==1 { getline nxt; print "first", $0, "next", nxt, "NR", NR }'
awk 'BEGIN { n = 0; while ((getline l < "keys.txt") > 0) n++; close("keys.txt"); print n " keys" }'
awk 'BEGIN { r = (getline l < "nope.txt"); print "missing file:", r }'
