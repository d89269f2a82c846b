#!/bin/bash
set -e
echo "before"
false || echo "handled failure"
if false; then echo no; fi
echo "still running"
ls missing-file-xyz
echo "not reached"
