#!/bin/bash
mkdir -p output/reports output/logs
for i in 1 2 3; do echo "report $i" > "output/reports/r$i.txt"; done
echo "log" > output/logs/app.log
echo "reports: $(ls output/reports | wc -l)"
find output -type f | sort
cat output/reports/*.txt
du -s output > /dev/null 2>&1 && echo "du ok"
