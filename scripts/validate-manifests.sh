#!/usr/bin/env bash
# Validate deploy/kubernetes/ offline: every manifest against the Kubernetes JSON schemas of the
# oldest and newest versions we support (kubernetes-validate --strict, which also refuses
# unknown fields), the kustomization listing exactly the manifests in the folder, and a broken
# copy of the Deployment refused (so the check can fail). kubernetes-validate is installed once,
# pinned with hashes, into a cached venv. scripts/test.sh runs this.
#
#   NESTBOX_TEST_CACHE   where the venv is kept (default: ~/.cache/nestbox-test)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$repo/deploy/kubernetes"
requirements="$repo/scripts/kubernetes-validate.requirements.txt"
venv="${NESTBOX_TEST_CACHE:-$HOME/.cache/nestbox-test}/kubernetes-validate-1.37.0"
versions=(1.30.0 1.37.0)

stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing kubernetes-validate into $venv (pinned, hash-checked)"
  rm -rf "$venv"
  # The pinned wheels are for CPython 3.11 (Debian 12's python3, which scripts/setup.sh installs).
  python="$(command -v python3.11 || true)"
  if [ -z "$python" ]; then
    echo "validate-manifests: python3.11 not found; run scripts/setup.sh (Debian 12's python3)" >&2
    exit 1
  fi
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$requirements"
  echo "$want" >"$stamp"
fi

manifests=()
for f in "$dir"/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f")
done
for v in "${versions[@]}"; do
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$v" "${manifests[@]}"
  echo "kubernetes-validate --strict -k $v: ${#manifests[@]} manifests passed"
done

# The kustomization names every manifest of the folder, and nothing else.
"$venv/bin/python" - "$dir" <<'PY'
import os, sys, yaml
folder = sys.argv[1]
k = yaml.safe_load(open(os.path.join(folder, "kustomization.yaml")))
assert k["apiVersion"] == "kustomize.config.k8s.io/v1beta1" and k["kind"] == "Kustomization", k
listed = sorted(k["resources"])
present = sorted(f for f in os.listdir(folder) if f.endswith(".yaml") and f != "kustomization.yaml")
if listed != present:
    sys.exit(f"kustomization.yaml lists {listed}, the folder has {present}")
for f in present:
    for doc in yaml.safe_load_all(open(os.path.join(folder, f))):
        ns = doc["metadata"].get("namespace", k["namespace"])
        if doc["kind"] != "Namespace" and ns != k["namespace"]:
            sys.exit(f"{f}: namespace {ns}, the kustomization's is {k['namespace']}")
print(f"kustomization.yaml lists all {len(present)} manifests")
PY

# The check can fail: an unknown field in the Deployment is refused.
broken=$(mktemp --suffix=.yaml)
trap 'rm -f "$broken"' EXIT
sed 's/^  replicas: /  replicaz: /' "$dir/deployment.yaml" >"$broken"
if "$venv/bin/kubernetes-validate" --strict --quiet -k "${versions[0]}" "$broken" >/dev/null 2>&1; then
  echo "kubernetes-validate accepted a Deployment with an unknown field: the check is broken" >&2
  exit 1
fi
echo "a broken Deployment is refused"

# Where kubectl is installed, its kustomize renders the whole set too (an extra check; the
# kustomization was checked above either way).
if ! command -v kubectl >/dev/null 2>&1; then
  echo "kubectl not installed: the kustomize rendering check is not run (the listing check above was)"
else
  kinds=$(kubectl kustomize "$dir" | grep -c '^kind:')
  [ "$kinds" = "${#manifests[@]}" ] || { echo "kubectl kustomize rendered $kinds objects" >&2; exit 1; }
  echo "kubectl kustomize renders $kinds objects"
fi
