#!/usr/bin/env bash
# Regenerate plugins/python/boot/packages.json from the Python runtime itself: every distribution
# it ships, its version and the names it is imported by (boot/nestbox_packages.py does the scan
# inside the sandbox). `nestbox plugins list --json`, the missing-module hint and the Open WebUI
# Tool's description read this file; tests/integration fails when it no longer matches the runtime.
#   scripts/python-packages.sh [NESTBOX]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/target/x86_64-unknown-linux-gnu/release/nestbox}
out="$repo/plugins/python/boot/packages.json"
"$bin" run --lang python --max-runtime-seconds 60 \
  --code 'import json, nestbox_packages; print(json.dumps(nestbox_packages.scan(), indent=1))' > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(grep -c '"distribution"' "$out") distributions)"
