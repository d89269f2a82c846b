#!/bin/bash
date -u -d '2024-01-31 +1 month' +%F
date -u -d '2024-03-31 -1 month' +%F
date -u -d '2024-02-29 +1 year' +%F
date -u -d '2024-05-10 yesterday' +%F
date -u -d '2024-05-10 tomorrow' +%F
date -u -d '2024-05-10 +2 weeks' +%F
date -u -d '2024-05-10 -3 days' '+%F %a'
date -u -d '2024-05-10 +36 hours' '+%F %H:%M'
date -u -d '2024-05-10 +1 hour' '+%F %H:%M:%S'
base=2024-12-30
for i in 0 1 2 3; do date -u -d "$base +$i day" +%F; done
