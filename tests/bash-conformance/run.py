#!/usr/bin/env python3
"""Run the bash conformance corpus through nestbox and compare with real bash.

    tests/bash-conformance/run.py [NESTBOX] [--threshold PCT] [--jobs N] [--only SUBSTR ...]
                                  [--nestbox-arg=ARG ...]

NESTBOX is the nestbox binary (default: $NESTBOX, else target/release/nestbox). Every
cases/NNN-name.sh runs as `NESTBOX run --lang bash --file CASE --json`; the result's stdout,
stderr and exit_code must equal expected/NNN-name.{stdout,stderr,status}, which record.sh
recorded with real GNU bash. Each failure is printed with a diff; the last line is
`bash-conformance: N passed, M failed`. Exits 1 when the pass rate is below the threshold
(default 95%), 2 on a usage error.
"""

import argparse
import concurrent.futures
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from conformance import default_nestbox, diff, run_json  # noqa: E402


def run_case(nestbox: str, case: Path, timeout: float, extra: list[str]) -> dict:
    cmd = [nestbox, "run", "--lang", "bash", "--file", str(case), "--json", *extra]
    return run_json(cmd, timeout)


def check(nestbox: str, case: Path, timeout: float, extra: list[str]) -> tuple[str, list[str]]:
    name = case.stem
    exp = HERE / "expected"
    want_out = (exp / f"{name}.stdout").read_text(encoding="utf-8", errors="replace")
    want_err = (exp / f"{name}.stderr").read_text(encoding="utf-8", errors="replace")
    want_status = int((exp / f"{name}.status").read_text().strip())
    result = run_case(nestbox, case, timeout, extra)
    if "error" in result:
        return name, [result["error"]]
    problems = []
    got_status = result.get("exit_code")
    if got_status != want_status:
        problems.append(f"exit status: expected {want_status}, got {got_status} "
                        f"(status {result.get('status')}: {result.get('message', '')})")
    for label, want, got in (("stdout", want_out, result.get("stdout", "")),
                             ("stderr", want_err, result.get("stderr", ""))):
        if want != got:
            problems.append(diff(f"{name}.{label}", want, got))
    return name, problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("nestbox", nargs="?", default=default_nestbox())
    p.add_argument("--threshold", type=float, default=95.0, help="minimum pass rate in percent")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    p.add_argument("--only", action="append", default=[], help="run cases whose name contains this")
    p.add_argument("--nestbox-arg", action="append", default=[], dest="extra",
                   help="extra argument for 'nestbox run' (e.g. --nestbox-arg=--no-gvisor)")
    args = p.parse_args()

    cases = sorted((HERE / "cases").glob("*.sh"))
    if args.only:
        cases = [c for c in cases if any(s in c.name for s in args.only)]
    if not cases:
        print("bash-conformance: no cases selected", file=sys.stderr)
        return 2
    print(f"bash-conformance: {len(cases)} cases through {args.nestbox}", flush=True)

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name, problems in pool.map(lambda c: check(args.nestbox, c, args.timeout, args.extra), cases):
            if problems:
                failed.append(name)
                print(f"FAIL {name}")
                for prob in problems:
                    print("    " + prob.replace("\n", "\n    ").rstrip())
    passed = len(cases) - len(failed)
    rate = 100.0 * passed / len(cases)
    print(f"bash-conformance: pass rate {rate:.1f}% (threshold {args.threshold:.1f}%)")
    if failed:
        print("bash-conformance: failing: " + " ".join(failed))
    print(f"bash-conformance: {passed} passed, {len(failed)} failed")
    return 0 if rate >= args.threshold else 1


if __name__ == "__main__":
    sys.exit(main())
