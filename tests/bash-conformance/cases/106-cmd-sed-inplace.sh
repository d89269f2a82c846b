#!/bin/bash
cat > app.conf <<'EOF'
debug=false
port=8080
host=127.0.0.1
EOF
sed -i 's/debug=false/debug=true/' app.conf
sed -i '/^host=/d' app.conf
sed -i '1i # generated' app.conf
cat app.conf
sed -n '/port/{s/port=//;p}' app.conf
sed -e 's/a/A/' -e 's/e/E/' <<< "banana tree"
echo "a,b,c" | sed 's/,/\n/g'
