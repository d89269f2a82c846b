#!/bin/bash
p="/var/log/app/server.log"
basename "$p"
basename "$p" .log
dirname "$p"
dirname "file.txt"
basename /usr/local/bin/
dirname /usr/local/bin/
for f in /a/b/c.tar.gz rel/x.sh; do echo "$(dirname "$f") | $(basename "$f")"; done
basename -s .sh one.sh two.sh 2>/dev/null || basename one.sh .sh
