#!/usr/bin/env bash
# Build the bash plugin: guest-runtimes/bash -> plugins/bash/bash.wasm, verified against the
# SHA-256 pinned in plugins/bash/plugin.toml (`[artifact] sha256`): a build that differs is refused
# and nothing is installed.
#
# Uses the wasm32-wasip1 toolchain that scripts/wasm-toolchain.sh installs (run here first; it is
# idempotent and quick when everything is present). The cargo target dir lives outside the checkout
# ($NESTBOX_BUILD_CACHE/target/bash-guest) unless CARGO_TARGET_DIR is set.
#
# The build is reproducible: no path of this machine ends up in the module (the checkout, cargo's
# registry and the target dir are remapped), codegen-units and the toolchain are fixed, so two
# clean builds give the same bytes wherever they run.
#
#   guest-runtimes/bash/build.sh           build, verify against the pin, install
#   NESTBOX_BASH_OUT=FILE build.sh         build and verify, write the module to FILE only
#   guest-runtimes/bash/build.sh --lint    lint like the host instead: rustfmt --check, and clippy
#                                          -D warnings for wasm32-wasip1 with the guest's toolchain
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out_dir=$repo/plugins/bash

say() { printf 'bash-guest: %s\n' "$*" >&2; }

mode=build
case "${1:-}" in
    "") ;;
    --lint) mode=lint ;;
    *) say "error: unknown argument $1 (use no argument to build, or --lint)"; exit 2 ;;
esac

if [[ $mode == lint ]]; then
    # rustfmt is the host's (rust-toolchain.toml): formatting does not depend on the target.
    say "cargo fmt --check"
    cargo fmt --manifest-path "$here/Cargo.toml" --all -- --check
fi

env_file=$("$repo/scripts/wasm-toolchain.sh")
# shellcheck source=/dev/null
. "$env_file"
cache_dir=$(dirname "$env_file")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache_dir/target/bash-guest}

manifest=$out_dir/plugin.toml
pinned=$(sed -nE 's/^sha256 = "([0-9a-f]{64})".*/\1/p' "$manifest")
[[ -n $pinned ]] || { say "error: no sha256 = \"<64 hex digits>\" line in $manifest"; exit 1; }

# A reactor: crt1-reactor.o provides `_initialize`; the host then calls `run`.
# 32 MiB of wasm stack: bashkit's interpreter recurses (nested functions, $(...), subshells); a
# shell function call takes about 9 KiB of it, so this allows ~3,500 nested calls (the vendored
# bashkit ends deeper recursion with an ordinary error 1 MiB before the end of the stack).
# The remaps keep this machine's paths (panic locations of dependencies) out of the module.
# Every path dependency must sit inside this workspace: cargo hashes the absolute path of one
# outside it into the crate's metadata, and the bytes then depend on where the checkout is (a
# pin made in /work/main failed in CI's /check/work/main). So the shared crates/nestbox-call is
# reached through the symlink nestbox-call -> ../../crates/nestbox-call.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="$NESTBOX_WASI_RUSTFLAGS_BASE \
 -C link-arg=$NESTBOX_WASI_SYSROOT/lib/crt1-reactor.o -C link-arg=-zstack-size=33554432 \
 --remap-path-prefix=$here=/nestbox/guest-runtimes/bash \
 --remap-path-prefix=$cargo_home=/cargo \
 --remap-path-prefix=$CARGO_TARGET_DIR=/target"
export SOURCE_DATE_EPOCH=0

locked=()
[[ -f $here/Cargo.lock ]] && locked=(--locked)
if [[ $mode == lint ]]; then
    # Debian's cargo-clippy directly: `cargo clippy` would pick rustup's proxy in ~/.cargo/bin first.
    say "cargo clippy --release --target wasm32-wasip1 -- -D warnings ($(/usr/bin/cargo-clippy --version))"
    start=$(date +%s)
    (cd "$here" && /usr/bin/cargo-clippy clippy --release --target wasm32-wasip1 "${locked[@]}" -- -D warnings)
    say "linted in $(($(date +%s) - start)) s"
    exit 0
fi
# Guard the rule above: a path dependency outside this folder would make the pin depend on where
# the checkout is, so it is refused here rather than found as a hash mismatch on another machine.
outside=$(cd "$here" && cargo metadata --format-version 1 "${locked[@]}" --filter-platform wasm32-wasip1 |
    python3 -c 'import json, sys
here = sys.argv[1] + "/"
for p in json.load(sys.stdin)["packages"]:
    if p["source"] is None and not p["manifest_path"].startswith(here):
        print(p["name"], p["manifest_path"])' "$here")
if [[ -n $outside ]]; then
    say "error: path dependencies outside $here: $outside"
    say "       cargo hashes their absolute path into the build, so the module's bytes would depend on"
    say "       where the checkout is. fix: reach them through a symlink inside $here (see nestbox-call)"
    exit 1
fi
say "cargo build --release --target wasm32-wasip1 (target dir $CARGO_TARGET_DIR)"
start=$(date +%s)
(cd "$here" && cargo build --release --target wasm32-wasip1 "${locked[@]}")
say "built in $(($(date +%s) - start)) s"

wasm=$CARGO_TARGET_DIR/wasm32-wasip1/release/nestbox_bash.wasm
[[ -s $wasm ]] || { say "error: $wasm was not produced"; exit 1; }
built=$(sha256sum "$wasm" | cut -d' ' -f1)
if [[ $built != "$pinned" ]]; then
    say "error: the build $wasm has SHA-256 $built,"
    say "       but $manifest pins $pinned; nothing was installed."
    say "       The bytes differ from the reviewed build: another toolchain ($(/usr/bin/rustc --version)),"
    say "       changed sources or Cargo.lock, or a tampered dependency or cache."
    say "       fix: build with scripts/wasm-toolchain.sh's toolchain from a clean CARGO_TARGET_DIR; if"
    say "       the change is intended, check it (tests/bash-conformance) and pin the new hash in $manifest"
    exit 1
fi
if [[ -n ${NESTBOX_BASH_OUT:-} ]]; then
    cp "$wasm" "$NESTBOX_BASH_OUT"
    say "wrote $NESTBOX_BASH_OUT (sha256 $built, matches the pin)"
    exit 0
fi
mkdir -p "$out_dir"
cp "$wasm" "$out_dir/bash.wasm.tmp"
mv "$out_dir/bash.wasm.tmp" "$out_dir/bash.wasm"
rm -f "$out_dir/bash.wasm.sha256"
say "wrote $out_dir/bash.wasm ($(stat -c %s "$out_dir/bash.wasm") bytes, sha256 $built, matches the pin)"
