"""What the conformance runners (tests/bash-conformance/run.py, tests/python-conformance/run.py)
share: finding the nestbox binary, running one case through `nestbox run --json`, and diffing
expected against actual output."""

import difflib
import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def default_nestbox() -> str:
    """$NESTBOX, else the release binary in this checkout, else `nestbox` on PATH."""
    if os.environ.get("NESTBOX"):
        return os.environ["NESTBOX"]
    for rel in ("target/release/nestbox", "target/x86_64-unknown-linux-gnu/release/nestbox"):
        if (REPO / rel).exists():
            return str(REPO / rel)
    return "nestbox"


def run_json(cmd: list[str], timeout: float) -> dict:
    """Run `nestbox run ... --json` with no stdin; its parsed result, or {"error": why}."""
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": f"nestbox did not finish within {timeout} s"}
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": f"nestbox exited {proc.returncode} without a JSON result; stderr:\n"
                         + proc.stderr.decode("utf-8", "replace")[-2000:]}


def diff(label: str, expected: str, actual: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                 f"expected/{label}", f"nestbox/{label}")
    return "".join(l if l.endswith("\n") else l + "\n\\ No newline at end of file\n" for l in lines)
