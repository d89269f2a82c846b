#!/bin/bash
date -u -d '2024-01-15' +%Y-%m-%d
date -u -d '2024-01-15 13:45:00' '+%H:%M on %A, %B %d'
date -u -d '@0' +%Y-%m-%dT%H:%M:%S
date -u -d '@1700000000' '+%s %j %u'
date -u -d '2024-02-28 + 1 day' +%F
date -u -d '2023-12-31 + 1 day' +%F
date -u -d '2024-03-10' +%s
start=$(date -u -d '2024-01-01' +%s); end=$(date -u -d '2024-03-01' +%s)
echo "days: $(( (end - start) / 86400 ))"
date -u -d '2024-07-04T10:00:00Z' '+%Y/%m/%d %I:%M %p'
