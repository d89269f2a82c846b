#!/bin/bash
cleanup() {
  echo "cleanup: removing temp files"
  rm -f scratch.tmp
}
trap cleanup EXIT
touch scratch.tmp
echo "working"
ls
