#!/usr/bin/env bash
# Benchmarks of `nestbox serve` (called by scripts/bench.sh, or alone), side by side in one run:
# warm print("hi") at a chat user's pace (one request a second) through `nestbox run --server`
# and through raw HTTP, beside the in-process Wasmtime run of the same code and the cold path;
# sustained executions per second at concurrency 4 and 16 with the CPU each execution costs; and
# memory per idle pooled sandbox. With a baseline binary (NESTBOX_BENCH_BASELINE, by default the
# main checkout's build when there is one) its server is measured the same way in the same run.
#
#   scripts/bench-server.sh [RUNS]     RUNS paced warm requests (default 30, one a second)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/target/x86_64-unknown-linux-gnu/release/nestbox"
runs=${1:-30}
baseline=${NESTBOX_BENCH_BASELINE-/work/main/target/x86_64-unknown-linux-gnu/release/nestbox}
[ -x "$baseline" ] && [ "$(readlink -f "$baseline")" != "$(readlink -f "$bin")" ] || baseline=
work=$(mktemp -d)
export CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES=false
pool=${NESTBOX_BENCH_POOL:-4}

trap 'rm -rf "$work"' EXIT

PYTHONPATH="$repo/scripts" python3 - "$work" "$bin" "$runs" "$pool" "$baseline" <<'PY'
import atexit, json, os, statistics, subprocess, sys, threading, time
from serve_client import Server

work, binary, runs, pool, baseline = sys.argv[1:6]
runs, pool = int(runs), int(pool)
servers = []


def start_server(binary, state):
    os.makedirs(state)
    log = open(state + ".log", "w")
    proc = subprocess.Popen([binary, "serve", "--pool", str(pool), "--max-queue", "256",
                             "--socket", state + "/serve.sock"], stdout=log, stderr=log,
                            env={**os.environ, "NESTBOX_STATE_DIR": state})
    servers.append(proc)
    return proc


def stop_servers():
    for p in servers:
        if p.poll() is None:
            p.terminate()
            p.wait()


atexit.register(stop_servers)
failures = []
job = {"language": "python", "code": 'print("hi")'}
HZ = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid):
    """CPU seconds of a server and every child it reaped (runsc, its gofer and sandbox)."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in f[11:15]) / HZ


def run_raw(server):
    started = time.perf_counter()
    code, payload = server.request("POST", "/v1/run", job)
    took = time.perf_counter() - started
    result = json.loads(payload) if code == 200 else {}
    if code != 200 or result.get("status") != "OK" or result.get("stdout") != "hi\n":
        failures.append((code, payload[:200]))
    return took, result.get("sandbox", {}).get("pooled", False)


def run_cli(server, binary):
    started = time.perf_counter()
    out = subprocess.run([binary, "run", "--json", "--server", server.sock, "--lang", "python",
                          "--code", 'print("hi")'], capture_output=True,
                         env={**os.environ, "NESTBOX_SERVER_TOKEN": server.token})
    took = time.perf_counter() - started
    result = json.loads(out.stdout or b"{}")
    if result.get("status") != "OK" or result.get("stdout") != "hi\n":
        failures.append(("cli", out.stdout[:200] + out.stderr[:200]))
    return took, result.get("sandbox", {}).get("pooled", False)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def paced(server, binary):
    """One request a second through the CLI, and half a second later one over raw HTTP."""
    cli, raw, pooled = [], [], 0
    for _ in range(runs):
        tick = time.time()
        t, p = run_cli(server, binary); cli.append(t); pooled += p
        time.sleep(max(0, tick + 0.5 - time.time()))
        t, p = run_raw(server); raw.append(t); pooled += p
        time.sleep(max(0, tick + 1.0 - time.time()))
    return cli, raw, pooled


def sustained(server, pid, concurrency, seconds=15):
    done = 0
    stop = time.time() + seconds
    lock = threading.Lock()

    def worker():
        nonlocal done
        while time.time() < stop:
            run_raw(server)
            with lock:
                done += 1

    server.wait_idle()
    cpu0 = tree_cpu(pid)
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    server.wait_idle()  # the refills these executions caused are theirs too
    return done / took, (tree_cpu(pid) - cpu0) / done * 1000


def cli_local(binary, *args, n=15):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        out = subprocess.run([binary, "run", "--json", "--lang", "python", "--code", 'print("hi")', *args],
                             capture_output=True, env={**os.environ, "NESTBOX_STATE_DIR": work + "/cli"})
        times.append(time.perf_counter() - started)
        if json.loads(out.stdout).get("status") != "OK":
            failures.append(("local", out.stdout[:200]))
    return statistics.median(times) * 1000


new = start_server(binary, work + "/new")
server_pid = new.pid
server = Server(work + "/new")
server.wait_ready()
server.wait_idle()
cli, raw, pooled = paced(server, binary)
inproc_ms = cli_local(binary, "--no-gvisor")
cold_ms = cli_local(binary)

# Memory per idle pooled sandbox (cgroup v1 or v2), with the pool full and nothing running.
server.wait_idle()
time.sleep(0.5)
usages = []
for run_id in os.listdir(os.path.join(work, "new", "runs")):
    if run_id.endswith(".lock"):
        continue
    for f in (f"/sys/fs/cgroup/memory/nestbox/{run_id}/memory.usage_in_bytes",
              f"/sys/fs/cgroup/nestbox/{run_id}/memory.current"):
        if os.path.exists(f):
            usages.append(int(open(f).read()))
            break
idle_mib = statistics.mean(usages) / 2**20 if usages else float("nan")
rate4, cpu4 = sustained(server, server_pid, 4)
rate16, cpu16 = sustained(server, server_pid, 16)
_, metrics = server.request("GET", "/metrics")
# The new server is stopped before the baseline runs, so they do not share the CPU.
stop_servers()

base = None
if baseline:
    state = work + "/base"
    proc = start_server(baseline, state)
    b = Server(state)
    b.wait_ready()
    b.wait_idle()
    bcli, braw, _ = paced(b, baseline)
    brate4, bcpu4 = sustained(b, proc.pid, 4)
    stop_servers()
    base = {"cli": statistics.median(bcli) * 1000, "cli_p99": pct(bcli, 0.99),
            "raw": statistics.median(braw) * 1000, "raw_p99": pct(braw, 0.99),
            "rate4": brate4, "cpu4": bcpu4}


def row(label, value):
    print(f"  {label:<58} {value:>12}")

missed = 0
def target(label, value, limit, unit, higher=False):
    global missed
    ok = value >= limit if higher else value <= limit
    missed += not ok
    sign = ">=" if higher else "<="
    print(f"  target {label:<50} {value:8.2f} {sign} {limit:.2f} {unit}   {'met' if ok else 'MISSED'}")

cli_med, raw_med = statistics.median(cli) * 1000, statistics.median(raw) * 1000
print(f"Server: nestbox serve, pool {pool} per plugin, {runs} paced requests each way (1/s)")
row('warm print("hi"), nestbox run --server, median', f"{cli_med:.1f} ms")
row('warm print("hi"), nestbox run --server, p99', f"{pct(cli, 0.99):.1f} ms")
row('warm print("hi"), raw HTTP, median', f"{raw_med:.1f} ms")
row('warm print("hi"), raw HTTP, p99', f"{pct(raw, 0.99):.1f} ms")
row('  p99 / median: run --server, raw HTTP', f"{pct(cli, 0.99) / cli_med:.2f}x, {pct(raw, 0.99) / raw_med:.2f}x")
row('  the CLI adds over raw HTTP', f"{cli_med - raw_med:.1f} ms")
row('requests that found a prepared sandbox', f"{pooled}/{2 * runs}")
row('in-process Wasmtime (nestbox run --no-gvisor), median', f"{inproc_ms:.1f} ms")
row('cold nestbox run (gVisor), median', f"{cold_ms:.1f} ms")
row('sustained executions/s, concurrency 4', f"{rate4:.1f}/s")
row('  CPU per execution (server, runsc, gofer, sandbox)', f"{cpu4:.0f} ms")
row('sustained executions/s, concurrency 16', f"{rate16:.1f}/s")
row('  CPU per execution', f"{cpu16:.0f} ms")
row('memory per idle pooled sandbox (cgroup usage)', f"{idle_mib:.1f} MiB")
for line in metrics.decode().splitlines():
    if line.startswith(("nestbox_pool_hits", "nestbox_pool_misses", "nestbox_pool_prepare_seconds_sum",
                        "nestbox_pool_prepare_seconds_count", "nestbox_pool_boot_seconds_sum",
                        "nestbox_pool_boot_seconds_count")):
        print(f"  /metrics {line}")
if base:
    print(f"Baseline in the same run: {baseline}")
    row('baseline warm print("hi"), nestbox run --server, median', f"{base['cli']:.1f} ms")
    row('baseline warm print("hi"), nestbox run --server, p99', f"{base['cli_p99']:.1f} ms")
    row('  baseline p99 / median (run --server)', f"{base['cli_p99'] / base['cli']:.2f}x")
    row('baseline warm print("hi"), raw HTTP, median', f"{base['raw']:.1f} ms")
    row('baseline warm print("hi"), raw HTTP, p99', f"{base['raw_p99']:.1f} ms")
    row('baseline sustained executions/s, concurrency 4', f"{base['rate4']:.1f}/s")
    row('  baseline CPU per execution', f"{base['cpu4']:.0f} ms")
target("warm median / in-process (run --server)", cli_med / inproc_ms, 0.35, "x")
target("warm p99 / median (run --server)", pct(cli, 0.99) / cli_med, 2.0, "x")
if base:
    target("executions/s at concurrency 4 / baseline's", rate4 / base["rate4"], 2.0, "x", higher=True)
    row("CPU per execution / baseline's (concurrency 4)", f"{cpu4 / base['cpu4']:.2f}x")
target("memory per idle sandbox (MiB)", idle_mib, 25, "MiB")
if failures:
    print(f"  {len(failures)} requests failed, first: {failures[0]}")
    missed += 1
strict = os.environ.get("NESTBOX_BENCH_STRICT") == "1"
sys.exit(1 if (missed and strict) or failures else 0)
PY
