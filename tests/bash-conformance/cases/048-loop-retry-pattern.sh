#!/bin/bash
attempt=0
max=5
until (( attempt >= max )); do
  attempt=$((attempt + 1))
  if (( attempt == 3 )); then
    echo "attempt $attempt: success"
    break
  fi
  echo "attempt $attempt: failed, retrying"
done
echo "done after $attempt attempts"
