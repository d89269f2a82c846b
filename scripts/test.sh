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
lint_start=$(date +%s)
cargo fmt --all -- --check
cargo clippy --release --locked --all-targets -- -D warnings
# The bash guest (its own wasm32-wasip1 workspace), linted like the host with its own toolchain.
if [ "${NESTBOX_SKIP_BASH:-0}" = 1 ]; then
  echo "bash guest lints skipped (NESTBOX_SKIP_BASH=1)"
else
  guest-runtimes/bash/build.sh --lint
fi
# Supply chain: licences, bans and sources of both workspaces (deny.toml in each); advisories too
# when the RustSec database can be fetched.
deny_checks=(licenses bans sources)
if timeout 20 git ls-remote --quiet https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
  deny_checks+=(advisories)
else
  echo "cargo deny: advisories SKIPPED: the RustSec advisory database (github.com/rustsec/advisory-db) is not reachable from this machine; licences, bans and sources are checked"
fi
for manifest in Cargo.toml guest-runtimes/bash/Cargo.toml; do
  echo "cargo deny: ${deny_checks[*]} for $manifest"
  cargo deny --manifest-path "$manifest" --locked check --hide-inclusion-graph "${deny_checks[@]}"
done
echo "lints and supply-chain checks took $(($(date +%s) - lint_start)) s"

step "Kubernetes manifests (deploy/kubernetes, offline schemas)"
scripts/validate-manifests.sh

step "Unit and integration tests (real runsc, real plugins)"
cargo test --release --locked

step "Self-test"
"$bin" self-test

step "bash conformance (real GNU bash's recorded output vs nestbox)"
tests/bash-conformance/run.sh "$bin" --threshold 98

step "Python conformance (native CPython 3.15's recorded output vs nestbox)"
tests/python-conformance/run.sh "$bin" --threshold 91

step "bash and Python conformance through nestbox serve (prepared pooled sandboxes; same expectations)"
tests/conformance-server.sh "$bin" bash --threshold 98
tests/conformance-server.sh "$bin" python --threshold 91

if [ "${NESTBOX_SKIP_OPEN_WEBUI:-0}" = 1 ]; then
  step "Open WebUI suite skipped (NESTBOX_SKIP_OPEN_WEBUI=1)"
else
  step "Open WebUI integration (real loader, real server)"
  NESTBOX="$bin" tests/open-webui/run.sh
fi

step "All tests passed"
