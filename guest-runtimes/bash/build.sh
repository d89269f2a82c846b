#!/usr/bin/env bash
# Build the bash plugin: guest-runtimes/bash -> plugins/bash/bash.wasm (+ bash.wasm.sha256).
#
# Uses the wasm32-wasip1 toolchain that scripts/wasm-toolchain.sh installs (run here first; it is
# idempotent and quick when everything is present). The cargo target dir lives outside the checkout
# ($NESTBOX_BUILD_CACHE/target/bash-guest) unless CARGO_TARGET_DIR is set.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out_dir=$repo/plugins/bash

say() { printf 'bash-guest: %s\n' "$*" >&2; }

env_file=$("$repo/scripts/wasm-toolchain.sh")
# shellcheck source=/dev/null
. "$env_file"
cache_dir=$(dirname "$env_file")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache_dir/target/bash-guest}

# A reactor: crt1-reactor.o provides `_initialize`; the host then calls `run`.
# 8 MiB of wasm stack: bashkit's interpreter recurses (nested functions, $(...), subshells).
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="$NESTBOX_WASI_RUSTFLAGS_BASE \
 -C link-arg=$NESTBOX_WASI_SYSROOT/lib/crt1-reactor.o -C link-arg=-zstack-size=8388608"

locked=()
[[ -f $here/Cargo.lock ]] && locked=(--locked)
say "cargo build --release --target wasm32-wasip1 (target dir $CARGO_TARGET_DIR)"
start=$(date +%s)
(cd "$here" && cargo build --release --target wasm32-wasip1 "${locked[@]}")
say "built in $(($(date +%s) - start)) s"

wasm=$CARGO_TARGET_DIR/wasm32-wasip1/release/nestbox_bash.wasm
[[ -s $wasm ]] || { say "error: $wasm was not produced"; exit 1; }
mkdir -p "$out_dir"
cp "$wasm" "$out_dir/bash.wasm.tmp"
mv "$out_dir/bash.wasm.tmp" "$out_dir/bash.wasm"
sha256sum "$out_dir/bash.wasm" | cut -d' ' -f1 >"$out_dir/bash.wasm.sha256"
say "wrote $out_dir/bash.wasm ($(stat -c %s "$out_dir/bash.wasm") bytes, sha256 $(cat "$out_dir/bash.wasm.sha256"))"
