#!/bin/bash
out=$(false)
echo "status: $?"
out=$(echo hi; exit 3)
echo "status: $? out: $out"
if out=$(grep -c x <<< "xax"); then echo "grep ok: $out"; fi
