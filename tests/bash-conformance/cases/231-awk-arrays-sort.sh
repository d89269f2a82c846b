#!/bin/bash
cat > words.txt <<'W'
the cat sat on the mat
the dog sat on the log
W
awk '{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print c[w], w }' words.txt | sort -k1,1nr -k2
echo ---
awk '{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print w }' words.txt | sort | paste -sd, -
awk 'BEGIN { a["x"]=1; a["y"]=2; delete a["x"]; for (k in a) print "left:", k; print length(a) }'
awk 'BEGIN { split("c,a,b", arr, ","); for (i = 1; i <= 3; i++) printf "%d=%s ", i, arr[i]; print "" }'
awk 'BEGIN { if (("z" in m) == 0) print "z absent"; m["z"]; if ("z" in m) print "z present now" }'
