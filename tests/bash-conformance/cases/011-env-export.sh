#!/bin/bash
export APP_ENV=production
LOCAL_ONLY=1
env | grep '^APP_ENV='
env | grep -c '^LOCAL_ONLY=' || true
bash -c 'echo "child sees: ${APP_ENV:-none} ${LOCAL_ONLY:-none}"'
FOO=bar bash -c 'echo "inline: $FOO"'
echo "after inline: ${FOO:-unset}"
