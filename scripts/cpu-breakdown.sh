#!/usr/bin/env bash
# Where the CPU of one Python execution goes, each step measured on its own in this run (CPU =
# user + system of the whole process tree: nestbox, runsc, its gofer and sandbox):
#   1. a bare `runsc run` of the run's own spec with a trivial guest (/nestbox --version):
#      sandbox boot and teardown;
#   2. the same spec running the guest, which loads and prepares the plugin, then finds no job:
#      boot + guest start + plugin start-up + teardown;
#   3. `nestbox run --no-gvisor`: the whole job in Wasmtime alone (process, module, interpreter);
#   4. a cold `nestbox run` of the same code through gVisor: everything.
#   scripts/cpu-breakdown.sh [RUNS]     (default 10 of each)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/target/x86_64-unknown-linux-gnu/release/nestbox"
runs=${1:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES=false NESTBOX_STATE_DIR="$work/state"
mkdir -p "$work/state"
"$bin" debug bundle --lang python --out "$work/true" -- /nestbox --version >/dev/null
"$bin" debug bundle --lang python --out "$work/guest" -- /nestbox guest --plugin python >/dev/null

python3 - "$bin" "$work" "$runs" <<'PY'
import os, resource, statistics, subprocess, sys, time
binary, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])

def measure(cmd):
    cpu, wall = [], []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([c.replace("{i}", str(i)) for c in cmd], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:  # the first is a warm-up
            cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
            wall.append(took * 1000)
    return statistics.median(cpu), statistics.median(wall)

runsc = lambda name: ["runsc", f"--root={work}/{name}/state", "--network=none", "run",
                      "--bundle", f"{work}/{name}/bundle", f"bench-{name}-{{i}}"]
code = ["--lang", "python", "--code", 'print("hi")']
rows = [
    ("1 bare runsc run, trivial guest (boot + teardown)", measure(runsc("true"))),
    ("2 runsc run of the guest: + guest start + plugin start-up", measure(runsc("guest"))),
    ("3 nestbox run --no-gvisor (Wasmtime alone, whole job)", measure([binary, "run", *code, "--no-gvisor"])),
    ("4 nestbox run, cold through gVisor (everything)", measure([binary, "run", *code])),
]
print(f"CPU of one print(\"hi\") execution, median of {runs} (ms of CPU / ms of wall)")
for label, (cpu, wall) in rows:
    print(f"  {label:<62} {cpu:7.0f} CPU {wall:7.0f} wall")
(b, _), (g, _), (i, _), (c, _) = (r[1] for r in rows)
print(f"  {'guest start + plugin start-up under gVisor (2 - 1)':<62} {g - b:7.0f} CPU")
print(f"  {'the job itself and nestbox on the host (4 - 2)':<62} {c - g:7.0f} CPU")
PY
