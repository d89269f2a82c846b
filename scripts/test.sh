#!/usr/bin/env bash
# Run every nestbox test on this machine, after setting it up (scripts/setup.sh; quick when
# already done). CI runs exactly this (.ci/run).
#
#   scripts/test.sh                 everything
#   NESTBOX_SKIP_OPEN_WEBUI=1 ...   skip the Open WebUI suite (its first run installs ~7 GB)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
step() { printf '\n==> %s\n' "$*"; }
bin="$repo/target/x86_64-unknown-linux-gnu/release/nestbox"

"$repo/scripts/setup.sh"

step "Formatting and lints"
cargo fmt --all -- --check
cargo clippy --release --locked --all-targets -- -D warnings

step "Unit and integration tests (real runsc, real plugins)"
cargo test --release --locked

step "Self-test"
"$bin" self-test

step "bash conformance (real GNU bash's recorded output vs nestbox)"
tests/bash-conformance/run.sh "$bin" --threshold 95

if [ "${NESTBOX_SKIP_OPEN_WEBUI:-0}" = 1 ]; then
  step "Open WebUI suite skipped (NESTBOX_SKIP_OPEN_WEBUI=1)"
else
  step "Open WebUI integration (real loader, real server)"
  NESTBOX="$bin" tests/open-webui/run.sh
fi

step "All tests passed"
