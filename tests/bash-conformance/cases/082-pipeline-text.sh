#!/bin/bash
cat > words.txt <<'EOF'
banana
apple
cherry
apple
banana
apple
date
EOF
sort words.txt | uniq -c | sort -rn | head -3
sort -u words.txt | tr '\n' ' '; echo
cat words.txt | grep -v apple | wc -l
