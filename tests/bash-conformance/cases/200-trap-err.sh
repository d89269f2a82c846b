#!/bin/bash
trap 'echo "ERR trapped: status $?"' ERR
false
echo "after false"
f() { return 3; }
f
echo "after f"
if false; then :; fi
false || true
echo "no trap in conditions"
trap - ERR
false
echo "trap removed"
