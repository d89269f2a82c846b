#!/bin/bash
cat > config.yaml <<EOF
server:
  host: localhost
  port: 8080
EOF
cat config.yaml
grep port config.yaml
cat <<EOF | sort
zeta
alpha
mid
EOF
