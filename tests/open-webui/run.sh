#!/usr/bin/env bash
# Run the Open WebUI integration tests: the Tool and the Action Function against the real
# nestbox binary, Open WebUI 0.12.4's own loader, and a real `open-webui serve`.
#
#   tests/open-webui/run.sh [pytest args]      e.g. -k action, -m 'not server', -x
#
# NESTBOX            the nestbox binary (default: target/x86_64-unknown-linux-gnu/release/nestbox)
# NESTBOX_TEST_CACHE where the Open WebUI venv is kept (default: ~/.cache/nestbox-test); the
#                    first install takes ~5 minutes and ~7 GB (torch and CUDA wheels come along).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${NESTBOX_TEST_CACHE:-$HOME/.cache/nestbox-test}/open-webui-0.12.4"
export NESTBOX="${NESTBOX:-$repo/target/x86_64-unknown-linux-gnu/release/nestbox}"

if [[ ! -x "$NESTBOX" ]]; then
    echo "run.sh: no nestbox binary at $NESTBOX: build it (cargo build --release) or set NESTBOX" >&2
    exit 2
fi

if ! "$venv/bin/python" -c 'import open_webui, pytest, pytest_asyncio' 2>/dev/null; then
    python="$(command -v python3.11 || command -v python3)"
    echo "run.sh: installing open-webui==0.12.4 into $venv (once; several minutes)" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "open-webui==0.12.4" pytest pytest-asyncio ruff
fi
# The browser test (test_browser.py): Playwright's Python driver, pinned, driving Debian's
# Chromium (Playwright's own browser builds are never downloaded).
if ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("playwright") == "1.65.2"' 2>/dev/null; then
    echo "run.sh: installing playwright==1.65.2 into $venv" >&2
    "$venv/bin/pip" install --quiet "playwright==1.65.2"
fi
if [[ -z "${NESTBOX_CHROMIUM:-}" && ! -x /usr/bin/chromium ]]; then
    echo "run.sh: installing Debian's chromium for the browser test" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi

export PATH="$venv/bin:$PATH"
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
