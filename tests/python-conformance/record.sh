#!/usr/bin/env bash
# Regenerate tests/python-conformance/expected/ with native CPython and the WASI runtime's packages.
#
#   tests/python-conformance/record.sh [cases/NNN-name.py ...]     (default: every case)
#
# The interpreter: $NATIVE_PYTHON when set, else a venv cached outside the checkout at
# ~/.cache/nestbox-test/python-native-3.15, made on first use (see setup_native below): CPython 3.15
# from Debian unstable's binary packages (their own glibc, made relocatable with patchelf, since no
# stable Debian has 3.15), with native-requirements.txt installed from PyPI: the versions of the
# WASI runtime's MANIFEST. CI never records; the expected files are committed.
#
# Each case runs as nestbox runs it, as closely as a normal machine allows:
#   - the program is $T/code/main.py (nestbox: /code/main.py); its working directory is a fresh
#     directory $T/work holding, read-only, the input files named in cases/NNN-name.inputs;
#   - a clean, fixed environment: MPLBACKEND=Agg, PYTHONHASHSEED=0 (the WASI snapshot fixes the hash
#     seed), PYTHONTZPATH= (time zones come from the tzdata package, as in the sandbox), one BLAS
#     thread (WebAssembly has none), HOME and TMPDIR private to the run, stdin from /dev/null.
# It writes, per case:
#   expected/NAME.out     stdout, with $T/work -> /work and $T/code/main.py -> /code/main.py
#   expected/NAME.status  the exit status
#   expected/NAME.err     for a nonzero status, the exception that ended it (`Type: message` and any
#                         lines after it: run.py's exception_text), not the traceback above it
#   expected/NAME.files   the files the program left in the working directory (inputs excluded)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/nestbox-test
venv=$cache/python-native-3.15
TIMEOUT=${TIMEOUT:-120}

setup_native() {
    local prefix=$cache/cpython-3.15-debian apt=$cache/apt-sid
    echo "record.sh: setting up native CPython 3.15 in $prefix and $venv (once)" >&2
    command -v patchelf >/dev/null || apt-get install -y patchelf >&2
    rm -rf "$prefix" "$venv" "$apt"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$prefix"
    echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main' \
        >"$apt/sources.list"
    local opts=(-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
        -o "Dir::State::status=/var/lib/dpkg/status")
    apt-get "${opts[@]}" update >&2
    # the interpreter and every shared library it and its stdlib modules load, from the same suite
    (cd "$apt/debs" && apt-get "${opts[@]}" download python3.15-minimal libpython3.15-minimal \
        libpython3.15-stdlib python3.15 libc6 libexpat1 libgcc-s1 libstdc++6 libzstd1 zlib1g libffi8 \
        liblzma5 libbz2-1.0 libsqlite3-0 libssl3t64 libuuid1 >&2)
    local deb
    for deb in "$apt/debs"/*.deb; do dpkg -x "$deb" "$prefix"; done
    local lib=$prefix/usr/lib/x86_64-linux-gnu
    patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" \
        "$prefix/usr/bin/python3.15"
    "$prefix/usr/bin/python3.15" -m venv --without-pip "$venv"
    (cd "$apt" && python3 -m pip download --no-deps -d "$apt/pip" pip >&2)
    local pipwhl
    pipwhl=$(ls "$apt"/pip/pip-*.whl)
    "$venv/bin/python" "$pipwhl/pip" install -q "$pipwhl"
    "$venv/bin/python" -m pip install -q --no-deps -r "$here/native-requirements.txt"
    "$venv/bin/python" -m pip check
}

if [[ -n ${NATIVE_PYTHON:-} ]]; then
    PY=$NATIVE_PYTHON
else
    PY=$venv/bin/python
    [[ -x $PY ]] || setup_native
fi

mkdir -p "$here/expected"
if (($#)); then cases=("$@"); else cases=("$here"/cases/*.py); fi
echo "recording ${#cases[@]} cases with $("$PY" -c 'import sys; print(sys.version.split()[0])') ($PY)" >&2

for case in "${cases[@]}"; do
    name=$(basename "$case" .py)
    T=$(mktemp -d /tmp/nestbox-pyconf.XXXXXXXX)
    mkdir "$T/code" "$T/work" "$T/home" "$T/tmp"
    cp "$here/cases/$name.py" "$T/code/main.py"
    inputs=()
    if [[ -f $here/cases/$name.inputs ]]; then
        while IFS= read -r input; do
            [[ -z $input ]] && continue
            cp "$here/inputs/$input" "$T/work/$input"
            chmod 0444 "$T/work/$input"
            inputs+=("$input")
        done <"$here/cases/$name.inputs"
    fi
    status=0
    (cd "$T/work" && env -i HOME="$T/home" TMPDIR="$T/tmp" PATH=/usr/bin:/bin LANG=C.UTF-8 \
        MPLBACKEND=Agg MPLCONFIGDIR="$T/home/mpl" PYTHONHASHSEED=0 PYTHONTZPATH= \
        PYTHONDONTWRITEBYTECODE=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
        timeout "$TIMEOUT" "$PY" "$T/code/main.py" </dev/null >"$T/stdout" 2>"$T/stderr") || status=$?
    sed -e "s|$T/code/main.py|/code/main.py|g" -e "s|$T/work|/work|g" "$T/stdout" >"$here/expected/$name.out"
    echo "$status" >"$here/expected/$name.status"
    rm -f "$here/expected/$name.err" "$here/expected/$name.files"
    if ((status != 0)); then
        python3 "$here/run.py" --exception-of "$T/stderr" |
            sed -e "s|$T/code/main.py|/code/main.py|g" -e "s|$T/work|/work|g" >"$here/expected/$name.err"
    fi
    files=$(cd "$T/work" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
        grep -v -x -F -f <(printf '%s\n' "${inputs[@]}" "") || true)
    [[ -n $files ]] && printf '%s\n' "$files" >"$here/expected/$name.files"
    rm -rf "$T"
    printf '%-45s status %s\n' "$name" "$status" >&2
done
