#!/bin/bash
f() { echo "stdout line"; echo "stderr line" >&2; }
f > all.log 2>&1
echo "--- all.log"; cat all.log
f &> all2.log
echo "--- all2.log"; cat all2.log
f 2>&1 >/dev/null | sed 's/^/piped: /'
f >> all.log 2>&1
echo "--- lines: $(wc -l < all.log)"
