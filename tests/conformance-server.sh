#!/usr/bin/env bash
# Run the Python and bash conformance corpora through `nestbox serve`, so every case runs in a
# prepared pooled sandbox (`nestbox run --server`), against the same expected output and with
# the same thresholds as the cold runs (tests/*-conformance/run.sh).
#   tests/conformance-server.sh [NESTBOX] [python] [bash]     (default: both)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
nestbox=${NESTBOX:-$repo/target/x86_64-unknown-linux-gnu/release/nestbox}
if [ $# -gt 0 ] && [ -x "$1" ]; then nestbox=$1; shift; fi
corpora=("$@")
[ ${#corpora[@]} -eq 0 ] && corpora=(python bash)

state=$(mktemp -d)
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s' "$token" > "$state/token"
chmod 600 "$state/token"
NESTBOX_STATE_DIR="$state" CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES=false \
  "$nestbox" serve --pool 2 --socket "$state/serve.sock" --token-file "$state/token" \
  >"$state/serve.log" 2>&1 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$state"
}
trap stop EXIT
for _ in $(seq 600); do
  [ -S "$state/serve.sock" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$state/serve.log" >&2; exit 1; }
  sleep 0.2
done
[ -S "$state/serve.sock" ] || { echo "conformance-server: the server did not start" >&2; cat "$state/serve.log" >&2; exit 1; }

export NESTBOX_SERVER_TOKEN=$token
status=0
for c in "${corpora[@]}"; do
  echo "== $c conformance through nestbox serve"
  "$repo/tests/$c-conformance/run.sh" "$nestbox" --nestbox-arg=--server --nestbox-arg="$state/serve.sock" || status=1
done
hits=$(grep -c '"pooled":true\|pooled=true' "$state/serve.log" || true)
echo "conformance-server: server log: $hits executions found a prepared sandbox"
exit $status
