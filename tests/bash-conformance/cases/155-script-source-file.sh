#!/bin/bash
cat > lib.sh <<'EOF'
LIB_VERSION="1.2"
lib_hello() { echo "hello from lib ($LIB_VERSION)"; }
EOF
source ./lib.sh
lib_hello
. ./lib.sh
echo "version $LIB_VERSION"
