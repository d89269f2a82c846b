#!/usr/bin/env python3
"""Run the Python data-science conformance corpus through nestbox and compare with native CPython.

    tests/python-conformance/run.py [NESTBOX] [--threshold PCT] [--jobs N] [--only SUBSTR ...]
                                    [--timeout S] [--nestbox-arg=ARG ...]

NESTBOX is the nestbox binary (default: $NESTBOX, else target/release/nestbox). Every
cases/NNN-name.py runs as `NESTBOX run --lang python --file CASE --json`, with each file named in
cases/NNN-name.inputs (one name a line, from inputs/) passed as `--input-file`. A case passes when
  - its stdout equals expected/NNN-name.out,
  - its exit status equals expected/NNN-name.status,
  - for a nonzero status, the exception at the end of stderr equals expected/NNN-name.err (the
    last line naming an exception, `Type: message`, and the lines after it; tracebacks name paths
    and line layout, so the rest of stderr is not compared),
  - every file in expected/NNN-name.files (left by the native run) and every pattern in
    cases/NNN-name.files (what only nestbox does, e.g. figures saved on plt.show()) matches a file
    of the result's `files` list with a nonzero size; further files are allowed.
record.sh recorded the expected files with native CPython and the WASI runtime's package versions.
The table lists every case; each failure follows with a diff. The last line is
`python-conformance: N passed, M failed`. Exits 1 when the pass rate is below the threshold
(default 97%), 2 on a usage error.
"""

import argparse
import concurrent.futures
import fnmatch
import re
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from conformance import default_nestbox, diff, run_json  # noqa: E402
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(:|$)")


def exception_text(stderr: str) -> str:
    """The exception that ended the program: its `Type: message` line and what follows it, less
    the note lines nestbox itself adds at the end (`nestbox: ...`, e.g. after a missing module)."""
    lines = stderr.rstrip("\n").split("\n")
    while len(lines) > 1 and lines[-1].startswith("nestbox: "):
        lines.pop()
    for i in range(len(lines) - 1, -1, -1):
        if EXCEPTION_LINE.match(lines[i]) and not lines[i].startswith("Traceback"):
            return "\n".join(lines[i:]) + "\n"
    return (lines[-1] + "\n") if lines and lines[-1] else ""


def read_list(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def run_case(nestbox: str, case: Path, timeout: float, extra: list[str]) -> dict:
    cmd = [nestbox, "run", "--lang", "python", "--file", str(case), "--json"]
    for name in read_list(case.with_suffix(".inputs")):
        cmd += ["--input-file", str(HERE / "inputs" / name)]
    cmd += extra
    return run_json(cmd, timeout)


def check(nestbox: str, case: Path, timeout: float, extra: list[str]) -> tuple[str, dict, list[str]]:
    name = case.stem
    exp = HERE / "expected"
    want_out = (exp / f"{name}.out").read_text(encoding="utf-8", errors="replace")
    want_status = int((exp / f"{name}.status").read_text().strip())
    started = time.monotonic()
    result = run_case(nestbox, case, timeout, extra)
    result.setdefault("_seconds", time.monotonic() - started)
    if "error" in result:
        return name, result, [result["error"]]
    problems = []
    got_status = result.get("exit_code")
    if got_status != want_status:
        problems.append(f"exit status: expected {want_status}, got {got_status} "
                        f"(status {result.get('status')}: {result.get('message', '')})")
        if want_status == 0 and result.get("stderr"):
            problems.append("stderr ends with: " + exception_text(result["stderr"]).rstrip("\n"))
    got_out = result.get("stdout", "")
    if got_out != want_out:
        problems.append(diff(f"{name}.out", want_out, got_out))
    if want_status != 0:
        want_err = (exp / f"{name}.err").read_text(encoding="utf-8", errors="replace")
        got_err = exception_text(result.get("stderr", ""))
        if got_err != want_err:
            problems.append(diff(f"{name}.err", want_err, got_err))
    files = {f["path"]: f.get("size", 0) for f in result.get("files", [])}
    wanted = read_list(exp / f"{name}.files") + read_list(case.with_suffix(".files"))
    for pattern in wanted:
        hits = [p for p in files if fnmatch.fnmatchcase(p, pattern)]
        if not hits:
            problems.append(f"file {pattern!r} missing from the result's files: {sorted(files)}")
        elif not any(files[p] > 0 for p in hits):
            problems.append(f"file {pattern!r} is empty in the result: {hits}")
    return name, result, problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("nestbox", nargs="?", default=default_nestbox())
    p.add_argument("--threshold", type=float, default=97.0, help="minimum pass rate in percent")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per case")
    p.add_argument("--only", action="append", default=[], help="run cases whose name contains this")
    p.add_argument("--nestbox-arg", action="append", default=[], dest="extra",
                   help="extra argument for 'nestbox run' (e.g. --nestbox-arg=--max-ram-mb=512)")
    p.add_argument("--exception-of", metavar="FILE", help=argparse.SUPPRESS)  # used by record.sh
    args = p.parse_args()

    if args.exception_of:
        sys.stdout.write(exception_text(Path(args.exception_of).read_text(encoding="utf-8", errors="replace")))
        return 0

    if shutil.which(args.nestbox) is None:
        print(f"python-conformance: {args.nestbox!r} is not an executable nestbox: build it "
              "(cargo build --release --locked), or name it as the first argument or in $NESTBOX",
              file=sys.stderr)
        return 2
    cases = sorted((HERE / "cases").glob("*.py"))
    if args.only:
        cases = [c for c in cases if any(s in c.name for s in args.only)]
    if not cases:
        print("python-conformance: no cases selected", file=sys.stderr)
        return 2
    print(f"python-conformance: {len(cases)} cases through {args.nestbox}", flush=True)

    failed: list[tuple[str, list[str]]] = []
    print(f"{'case':40s} {'result':6s} {'status':8s} {'seconds':>7s}")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, result, problems in pool.map(lambda c: check(args.nestbox, c, args.timeout, args.extra), cases):
            secs = result.get("duration_ms", result["_seconds"] * 1000) / 1000
            verdict = "FAIL" if problems else "pass"
            print(f"{name:40s} {verdict:6s} {str(result.get('status', '-')):8s} {secs:7.1f}", flush=True)
            if problems:
                failed.append((name, problems))
    for name, problems in failed:
        print(f"\nFAIL {name}")
        for prob in problems:
            print("    " + prob.replace("\n", "\n    ").rstrip())
    passed = len(cases) - len(failed)
    rate = 100.0 * passed / len(cases)
    print(f"\npython-conformance: pass rate {rate:.1f}% (threshold {args.threshold:.1f}%)")
    if failed:
        print("python-conformance: failing: " + " ".join(n for n, _ in failed))
    print(f"python-conformance: {passed} passed, {len(failed)} failed")
    return 0 if rate >= args.threshold else 1


if __name__ == "__main__":
    sys.exit(main())
