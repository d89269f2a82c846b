#!/bin/bash
cat > access.log <<'EOF'
192.168.1.1 - - [10/Oct/2023:13:55:36] "GET /index.html HTTP/1.1" 200 2326
192.168.1.2 - - [10/Oct/2023:13:56:01] "GET /about.html HTTP/1.1" 404 512
192.168.1.1 - - [10/Oct/2023:13:57:12] "POST /api/login HTTP/1.1" 200 128
10.0.0.5 - - [10/Oct/2023:13:58:40] "GET /index.html HTTP/1.1" 200 2326
192.168.1.2 - - [10/Oct/2023:13:59:59] "GET /missing HTTP/1.1" 404 512
10.0.0.5 - - [10/Oct/2023:14:00:00] "GET /index.html HTTP/1.1" 500 0
EOF
echo "Top IPs:"
awk '{print $1}' access.log | sort | uniq -c | sort -rn
echo "Status codes:"
awk '{print $(NF-1)}' access.log | sort | uniq -c
echo "404 paths:"
grep ' 404 ' access.log | awk '{print $7}' | sort -u
echo "Total bytes: $(awk '{s+=$NF} END {print s}' access.log)"
