#!/usr/bin/env bash
# Validates docker/k8s offline, without a cluster (none was used to write these files):
#   1. yamllint (Debian's) on every file
#   2. renders both variants, base/ and runtime-default/, with `kubectl kustomize` (no
#      server needed; skipped with a note when kubectl is not installed: Debian 12's
#      kubernetes-client is 1.20, whose kustomize predates the `patches:` field)
#   3. checks each rendered object against the API's JSON schema and dusty's own rules
#      (check-manifests.mjs, on the npm packages kubernetes-models and js-yaml, installed
#      at pinned versions into build/k8s-validate)
# `kubectl apply --dry-run=client` is not used: it asks a server for the API's resource
# list even in client mode, and fails without one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=docker/lib.sh
source "$here/../lib.sh"
dusty_install_missing yamllint
command -v node >/dev/null && command -v npm >/dev/null || dusty_install_missing nodejs npm

yamllint -s -c "$here/.yamllint" "$here"
echo "ok   - yamllint docker/k8s"

out=$root/build/k8s-validate
mkdir -p "$out"
rendered=()
if command -v kubectl >/dev/null; then
  for variant in base runtime-default; do
    kubectl kustomize "$here/$variant" >"$out/$variant.yaml"
    rendered+=("$out/$variant.yaml")
  done
  echo "ok   - kubectl kustomize base and runtime-default"
  grep -q 'type: RuntimeDefault' "$out/runtime-default.yaml" || { echo "FAIL - runtime-default has no RuntimeDefault"; exit 1; }
else
  echo "note - kubectl is not installed: checking base/ file by file, runtime-default/ not rendered"
  rendered=("$here"/base/deployment.yaml "$here"/base/service.yaml "$here"/base/hpa.yaml "$here"/base/pdb.yaml)
fi

if [[ ! -f $out/node_modules/kubernetes-models/package.json ]]; then
  (cd "$out" && [[ -f package.json ]] || echo '{"private": true, "type": "module"}' >"$out/package.json"
   cd "$out" && npm install --no-audit --no-fund --silent kubernetes-models@5.1.0 js-yaml@4.1.0)
fi
cp "$here/check-manifests.mjs" "$out/"
node "$out/check-manifests.mjs" "${rendered[@]}"
