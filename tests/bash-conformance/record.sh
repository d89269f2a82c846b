#!/usr/bin/env bash
# Regenerate tests/bash-conformance/expected/ with real GNU bash on this machine.
#
#   tests/bash-conformance/record.sh [CASE.sh ...]     (default: every cases/*.sh)
#
# Each case runs as nestbox runs it, as closely as a normal machine allows:
#   - the script is a file named main.sh in a directory of its own ($T/code/main.sh, run as
#     `bash $T/code/main.sh`, like nestbox's `bash /code/main.sh`, whose messages and `$0` name it
#     `main.sh` as `bash main.sh` would);
#   - its working directory is a fresh, empty directory ($T/work, like nestbox's /work);
#   - a clean, fixed environment: env -i HOME=/tmp PATH=/usr/bin:/bin LANG=C.UTF-8
#     (the bash plugin's manifest gives the same three variables), stdin from /dev/null.
# Then, in stdout and stderr, and only there, two strings are rewritten:
#   $T/code/main.sh -> main.sh         (bash's error messages and $0 name the script)
#   $T/work         -> /work           (pwd and paths under the working directory)
# Nothing else is normalised: the expected files are what bash printed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASH_BIN=${BASH_BIN:-/bin/bash}
TIMEOUT=${TIMEOUT:-30}
mkdir -p "$here/expected"

if (($#)); then cases=("$@"); else cases=("$here"/cases/*.sh); fi
echo "recording ${#cases[@]} cases with $("$BASH_BIN" --version | head -1)" >&2

for case in "${cases[@]}"; do
    name=$(basename "$case" .sh)
    T=$(mktemp -d /tmp/nestbox-bashconf.XXXXXXXX)
    mkdir "$T/code" "$T/work"
    cp "$case" "$T/code/main.sh"
    status=0
    (cd "$T/work" && env -i HOME=/tmp PATH=/usr/bin:/bin LANG=C.UTF-8 \
        timeout "$TIMEOUT" "$BASH_BIN" "$T/code/main.sh" </dev/null >"$T/stdout" 2>"$T/stderr") || status=$?
    for stream in stdout stderr; do
        sed -e "s|$T/code/main.sh|main.sh|g" -e "s|$T/work|/work|g" "$T/$stream" \
            >"$here/expected/$name.$stream"
    done
    echo "$status" >"$here/expected/$name.status"
    rm -rf "$T"
    printf '%-45s status %s\n' "$name" "$status" >&2
done
