#!/bin/bash
echo "one"
if [[ -z "${REQUIRED:-}" ]]; then
  echo "REQUIRED not set" >&2
  exit 64
fi
echo "two"
