#!/bin/bash
false | true
echo "without pipefail: $?"
set -o pipefail
false | true
echo "with pipefail: $?"
true | (exit 3) | true
echo "middle fails: $?"
echo ok | grep -q ok
echo "all ok: $?"
