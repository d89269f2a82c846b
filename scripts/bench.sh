#!/usr/bin/env bash
# nestbox benchmarks: every figure is printed beside its baseline, measured in the same run, with
# the ratio and the target it is held to. Timing lives here, never in tests.
#
#   scripts/bench.sh                  everything (a few minutes)
#   scripts/bench.sh core gvisor      only some sections: core gvisor bash fuel server
#   NESTBOX_BENCH_RUNS=50 ...         more runs per figure (default 20)
#   NESTBOX_BENCH_STRICT=1 ...        exit 1 when a target is missed
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bin="$repo/target/x86_64-unknown-linux-gnu/release/nestbox"
runs=${NESTBOX_BENCH_RUNS:-20}
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(core gvisor bash fuel server)
want() { [[ " ${sections[*]} " == *" $1 "* ]]; }

if ! command -v hyperfine >/dev/null; then
  echo "installing hyperfine (apt) to time commands"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine >/dev/null
fi
[ -x "$bin" ] || scripts/setup.sh
"$bin" plugins prepare >/dev/null

# The interpreter itself, not a version manager's shim script in front of it.
python=$(python3 -c 'import sys; print(sys.executable)')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NESTBOX_STATE_DIR="$work/state" CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES=false
missed=0

# median_ms NAME RUNS COMMAND...: time a command (no shell in between), print its median in ms.
median_ms() {
  local name=$1 n=$2
  shift 2
  hyperfine -N --style none --warmup 3 --runs "$n" --export-json "$work/$name.json" "$@" >/dev/null 2>&1 ||
    hyperfine -N --warmup 1 --runs 1 "$@" >&2
  python3 - "$work/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{r['median'] * 1000:.1f}")
PY
}

p99_ms() {
  python3 - "$work/$1.json" <<'PY'
import json, sys
t = sorted(json.load(open(sys.argv[1]))["results"][0]["times"])
print(f"{t[min(len(t) - 1, int(len(t) * 0.99))] * 1000:.1f}")
PY
}

ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }

# target NAME VALUE LIMIT: report whether VALUE <= LIMIT.
target() {
  if python3 -c "import sys; sys.exit(0 if $2 <= $3 else 1)"; then
    printf '  target %-44s %8s <= %s   met\n' "$1" "$2" "$3"
  else
    printf '  target %-44s %8s <= %s   MISSED\n' "$1" "$2" "$3"
    missed=$((missed + 1))
  fi
}

row() { printf '  %-52s %10s\n' "$1" "$2"; }

echo "nestbox benchmarks on $(nproc) cores, $(uname -r); $runs runs per figure (median)"
echo "runsc $(runsc --version | head -n 1 | cut -d' ' -f3), $("$bin" --version)"

if want core; then
  echo
  echo "Core: the inner wall alone (Wasmtime in-process, --no-gvisor), Python plugin"
  nb=$(median_ms core-hi "$runs" "$bin run --no-gvisor --lang python --code 'print(\"hi\")'")
  py=$(median_ms native-hi "$runs" "$python -c 'print(\"hi\")'")
  row 'nestbox run --no-gvisor print("hi")' "$nb ms"
  row 'native python3 -c print("hi")' "$py ms"
  row 'ratio' "$(ratio "$nb" "$py")"
  target 'print("hi") without gVisor (ms)' "$nb" 60
  loop='sum(i*i for i in range(10**7))'
  nbl=$(median_ms core-loop 5 "$bin run --no-gvisor --lang python --code '$loop'")
  pyl=$(median_ms native-loop 5 "$python -c '$loop'")
  row "CPU loop $loop, nestbox" "$nbl ms"
  row "CPU loop, native CPython $($python -c 'import sys; print(sys.version.split()[0])')" "$pyl ms"
  row 'ratio (the WASI build is -O0: ~6x expected)' "$(ratio "$nbl" "$pyl")"
  rss=$( (/usr/bin/time -f '%M' "$bin" run --no-gvisor --lang python --code 'print("hi")' >/dev/null) 2>&1 | tail -n 1)
  row 'peak RSS of nestbox for print("hi")' "$((rss / 1024)) MiB"
fi

if want fuel; then
  echo
  echo "Fuel: the CPU loop with fuel+epoch (as nestbox runs), epoch only, neither (in-process)"
  cargo run --quiet --release --example fuel_overhead -- plugins/python/python-3.12.0.wasm 2>/dev/null |
    grep -v '^[0-9]*$' | sed 's/^/  /'
fi

if want gvisor; then
  echo
  echo "gVisor: both walls (a fresh sandbox per run), Python plugin"
  gv=$(median_ms gvisor-hi "$runs" "$bin run --lang python --code 'print(\"hi\")'")
  bundle=$("$bin" debug bundle --lang python --out "$work/bare" -- /nestbox --version)
  bare=$(median_ms bare-runsc "$runs" "runsc --root=$work/bare/state --network=none run --bundle $bundle bench")
  core=${nb:-$(median_ms core-hi "$runs" "$bin run --no-gvisor --lang python --code 'print(\"hi\")'")}
  row 'nestbox run print("hi") through gVisor' "$gv ms"
  row 'bare runsc run of /nestbox --version, same spec' "$bare ms"
  row 'nestbox run --no-gvisor print("hi") (core)' "$core ms"
  row 'gVisor run minus bare runsc (interpreter + nestbox)' "$(python3 -c "print(f'{$gv - $bare:.1f} ms')")"
  row 'reference safe-code-execution (measured: 1270 ms)' "$(ratio 1270 "$gv") faster"
  target 'print("hi") through gVisor (ms)' "$gv" 250
fi

if want bash; then
  echo
  echo "bash plugin vs GNU bash on this machine"
  python3 -c "
import random
random.seed(7)
words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa']
open('$work/words.txt', 'w').write(''.join(random.choice(words) + '\n' for _ in range(1000)))
"
  pipeline='sort words.txt | uniq -c | sort -rn | head'
  cd "$work"
  be=$(median_ms bash-echo "$runs" "bash -c 'echo hi'")
  bp=$(median_ms bash-pipe "$runs" "bash -c '$pipeline'")
  cd "$repo"
  ne=$(median_ms nb-echo "$runs" "$bin run --no-gvisor --lang bash --code 'echo hi'")
  np=$(median_ms nb-pipe "$runs" "$bin run --no-gvisor --lang bash --input-file $work/words.txt --code '$pipeline'")
  ge=$(median_ms gv-echo "$runs" "$bin run --lang bash --code 'echo hi'")
  gp=$(median_ms gv-pipe "$runs" "$bin run --lang bash --input-file $work/words.txt --code '$pipeline'")
  row 'GNU bash: echo hi' "$be ms"
  row 'GNU bash: 1,000-line sort|uniq -c|sort -rn|head' "$bp ms"
  row 'nestbox bash (no gVisor): echo hi' "$ne ms"
  row 'nestbox bash (no gVisor): the pipeline' "$np ms"
  row 'nestbox bash (gVisor): echo hi' "$ge ms"
  row 'nestbox bash (gVisor): the pipeline' "$gp ms"
  row 'echo hi through gVisor vs GNU bash' "$(ratio "$ge" "$be")"
  # Excluding the fixed start: what the pipeline adds over `echo hi`, each in its own world.
  nd=$(python3 -c "print(max(0.1, $np - $ne))")
  bd=$(python3 -c "print(max(0.1, $bp - $be))")
  row 'pipeline beyond start: nestbox (ms)' "$nd"
  row 'pipeline beyond start: GNU bash, 4 processes (ms)' "$bd"
  pr=$(python3 -c "print(f'{$nd / $bd:.2f}')")
  row 'ratio' "${pr}x"
  target 'pipeline vs GNU bash, excluding start (x)' "$pr" 3
fi

if want server && "$bin" serve --help >/dev/null 2>&1; then
  echo
  scripts/bench-server.sh "$runs" || missed=$((missed + 1))
fi

echo
if [ "$missed" -gt 0 ]; then
  echo "$missed target(s) missed"
  [ "${NESTBOX_BENCH_STRICT:-0}" = 1 ] && exit 1
else
  echo "all targets met"
fi
