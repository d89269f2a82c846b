#!/bin/bash
cat > mixed.txt <<'EOF'
foo123
bar
Foo456
baz789qux
  indented
EOF
grep -E '[0-9]{3}$' mixed.txt
grep -P '\d+' mixed.txt 2>/dev/null | head -1 || true
grep '^ ' mixed.txt
grep -x bar mixed.txt
grep -e foo -e bar mixed.txt
grep -A1 bar mixed.txt
grep -B1 bar mixed.txt
grep -m1 -i foo mixed.txt
