#!/usr/bin/env bash
# Run a conformance corpus through `nestbox serve`, so every case runs in a prepared pooled
# sandbox (`nestbox run --server`), against the same expected output as the cold runs
# (tests/*-conformance/run.sh); arguments after the corpus go to its run.sh (--threshold ...).
#   tests/conformance-server.sh [NESTBOX] python|bash [RUN.SH ARGS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
nestbox=${NESTBOX:-$repo/target/x86_64-unknown-linux-gnu/release/nestbox}
if [ $# -gt 0 ] && [ -x "$1" ]; then nestbox=$1; shift; fi
corpus=${1:?usage: tests/conformance-server.sh [NESTBOX] python|bash [run.sh args...]}
shift

state=$(mktemp -d)
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s' "$token" > "$state/token"
chmod 600 "$state/token"
NESTBOX_STATE_DIR="$state" CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES=false \
  "$nestbox" serve --log-json --pool 2 --socket "$state/serve.sock" --token-file "$state/token" \
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
"$repo/tests/$corpus-conformance/run.sh" "$nestbox" "$@" \
  --nestbox-arg=--server --nestbox-arg="$state/serve.sock" || status=1
hits=$(grep -c '"pooled":true' "$state/serve.log" || true)
echo "conformance-server: $hits of the executions found a prepared sandbox"
exit $status
