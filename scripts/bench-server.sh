#!/usr/bin/env bash
# Benchmarks of `nestbox serve` (called by scripts/bench.sh, or alone): warm latency through the
# server beside a cold `nestbox run` and the bare in-process Wasmtime baseline, sustained
# executions per second at concurrency 4 and 16, and memory per idle pooled sandbox.
#
#   scripts/bench-server.sh [RUNS]     RUNS warm requests for the latency figures (default 200)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/target/x86_64-unknown-linux-gnu/release/nestbox"
runs=${1:-200}
[ "$runs" -lt 200 ] && runs=200
work=$(mktemp -d)
state="$work/state"
mkdir -p "$state"
export CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES=false
pool=${NESTBOX_BENCH_POOL:-4}

NESTBOX_STATE_DIR="$state" "$bin" serve --pool "$pool" --max-queue 256 --socket "$state/serve.sock" \
  >"$work/serve.log" 2>&1 &
server=$!
cleanup() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

PYTHONPATH="$repo/scripts" python3 - "$state" "$bin" "$runs" "$pool" <<'PY'
import json, os, statistics, subprocess, sys, threading, time
from serve_client import Server

state, binary, runs, pool = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
failures = []
server = Server(state)
server.wait_ready()
job = {"language": "python", "code": 'print("hi")'}


def run_one():
    started = time.perf_counter()
    code, payload = server.request("POST", "/v1/run", job)
    took = time.perf_counter() - started
    result = json.loads(payload) if code == 200 else {}
    if code != 200 or result.get("status") != "OK" or result.get("stdout") != "hi\n":
        failures.append((code, payload[:200]))
    return took, result.get("sandbox", {}).get("pooled", False)


# Warm latency: sequential requests, each one when the pool is full again.
warm, pooled = [], 0
for _ in range(runs):
    server.wait_idle()
    took, was_pooled = run_one()
    warm.append(took)
    pooled += was_pooled
warm.sort()
median = statistics.median(warm) * 1000
p99 = warm[min(len(warm) - 1, int(len(warm) * 0.99))] * 1000

# Memory per idle pooled sandbox (cgroup v1 or v2), with the pool full and nothing running.
server.wait_idle()
time.sleep(0.5)
usages = []
for run_id in os.listdir(os.path.join(state, "runs")):
    if run_id.endswith(".lock"):
        continue
    for f in (f"/sys/fs/cgroup/memory/nestbox/{run_id}/memory.usage_in_bytes",
              f"/sys/fs/cgroup/nestbox/{run_id}/memory.current"):
        if os.path.exists(f):
            usages.append(int(open(f).read()))
            break
idle_mib = statistics.mean(usages) / 2**20 if usages else float("nan")

# Cold run and the in-process baseline, as the same machine does them now.
def cli(*args, n=20):
    times, durations = [], []
    for _ in range(n):
        started = time.perf_counter()
        out = subprocess.run([binary, "run", "--json", "--lang", "python", "--code", 'print("hi")', *args],
                             capture_output=True, env={**os.environ, "NESTBOX_STATE_DIR": state + "-cli"})
        times.append(time.perf_counter() - started)
        durations.append(json.loads(out.stdout)["duration_ms"])
    return statistics.median(times) * 1000, statistics.median(durations)

cold_ms, _ = cli()
inproc_ms, inproc_runner_ms = cli("--no-gvisor")


def sustained(concurrency, seconds=10):
    done = 0
    stop = time.time() + seconds
    lock = threading.Lock()

    def worker():
        nonlocal done
        while time.time() < stop:
            run_one()
            with lock:
                done += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done / (time.perf_counter() - started)


rate4 = sustained(4)
rate16 = sustained(16)

def row(label, value):
    print(f"  {label:<52} {value:>10}")

missed = 0
def target(label, value, limit, unit, higher=False):
    global missed
    ok = value >= limit if higher else value <= limit
    missed += not ok
    sign = ">=" if higher else "<="
    print(f"  target {label:<44} {value:8.1f} {sign} {limit} {unit}   {'met' if ok else 'MISSED'}")

print(f"Server: nestbox serve, pool {pool} per plugin, {runs} warm requests")
row('warm print("hi") through the server, median', f"{median:.1f} ms")
row('warm print("hi") through the server, p99', f"{p99:.1f} ms")
row('requests that found a pooled sandbox', f"{pooled}/{runs}")
row('cold nestbox run print("hi") (gVisor), median', f"{cold_ms:.1f} ms")
row('in-process Wasmtime (nestbox run --no-gvisor), median', f"{inproc_ms:.1f} ms")
row('  of which the run itself (duration_ms), median', f"{inproc_runner_ms:.1f} ms")
row('warm vs cold', f"{cold_ms / median:.2f}x faster")
row('sustained executions/s, concurrency 4', f"{rate4:.1f}/s")
row('sustained executions/s, concurrency 16', f"{rate16:.1f}/s")
row('memory per idle pooled sandbox (cgroup usage)', f"{idle_mib:.1f} MiB")
target("warm median (ms)", median, 40, "ms")
target("sustained at concurrency 4 (exec/s)", rate4, 20, "/s", higher=True)
target("memory per idle sandbox (MiB)", idle_mib, 25, "MiB")
if failures:
    print(f"  {len(failures)} requests failed, first: {failures[0]}")
    missed += 1
sys.exit(1 if missed else 0)
PY
