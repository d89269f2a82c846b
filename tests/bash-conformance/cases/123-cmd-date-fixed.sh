#!/bin/bash
export TZ=UTC
date -d "2024-01-15 10:30:00" "+%Y-%m-%d %H:%M:%S"
date -d "2024-01-15" +%A
date -d @0 +%Y
date -u -d @86400 "+%F %T"
date -d "2024-02-28 + 1 day" +%F
date -d "2024-03-01" +%s
d1=$(date -d 2024-01-01 +%s); d2=$(date -d 2024-03-01 +%s)
echo "days: $(( (d2 - d1) / 86400 ))"
