#!/bin/bash
unset MAYBE
echo "${MAYBE:-default}"
echo "${MAYBE-unset-default}"
EMPTY=""
echo "[${EMPTY:-empty-default}]"
echo "[${EMPTY-not-used}]"
echo "${MAYBE:=assigned}"
echo "now: $MAYBE"
echo "${MAYBE:+alternate}"
echo "[${NOPE:+alternate}]"
