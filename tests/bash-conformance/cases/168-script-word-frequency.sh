#!/bin/bash
cat > text.txt <<'EOF'
It was the best of times, it was the worst of times,
it was the age of wisdom, it was the age of foolishness.
EOF
tr -cs 'A-Za-z' '\n' < text.txt | tr 'A-Z' 'a-z' | grep -v '^$' | sort | uniq -c | sort -k1,1nr -k2 | head -5
echo "unique words: $(tr -cs 'A-Za-z' '\n' < text.txt | tr 'A-Z' 'a-z' | grep -v '^$' | sort -u | wc -l)"
