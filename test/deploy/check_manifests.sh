#!/usr/bin/env bash
# Checks that the deployment files are accepted by the tools that consume
# them, without a cluster or a running systemd:
#   - every kustomization under DEPLOY_DIR/kubernetes builds with
#     `kubectl kustomize` and yields Kubernetes objects (each document has
#     apiVersion, kind and metadata.name);
#   - every unit under DEPLOY_DIR/systemd passes `systemd-analyze verify`
#     with no complaint at all (verify exits 0 even for unknown keys and
#     bad values, so any line it prints is a failure). The units name
#     /usr/bin/causeway*; the check points them at CAUSEWAY_BIN instead.
#
#   CAUSEWAY_BIN=build/release/src/exe test/deploy/check_manifests.sh [DEPLOY_DIR]
#   test/deploy/check_manifests.sh --self-test   # plants a broken copy of each
#
# Exit 77 (skipped) when kubectl or systemd-analyze is missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in kubectl systemd-analyze python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check_manifests: SKIPPED: $tool is needed" >&2
    exit 77
  fi
done
: "${CAUSEWAY_BIN:?set CAUSEWAY_BIN to the directory holding causeway and causeway-proxy}"

# check DEPLOY_DIR: prints one line per problem, returns 1 if there was any.
check() {
  local deploy_dir=$1 failed=0 scratch
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' RETURN

  local dirs
  dirs=$(find "$deploy_dir/kubernetes" -name kustomization.yaml -printf '%h\n' | sort)
  if [ -z "$dirs" ]; then
    echo "check_manifests: no kustomization.yaml under $deploy_dir/kubernetes"
    failed=1
  fi
  for dir in $dirs; do
    if ! kubectl kustomize "$dir" >"$scratch/out.yaml" 2>"$scratch/err"; then
      echo "check_manifests: kubectl kustomize ${dir#"$deploy_dir"/}: $(head -c 600 "$scratch/err")"
      failed=1
      continue
    fi
    if ! python3 - "$scratch/out.yaml" "${dir#"$deploy_dir"/}" <<'PY'; then
import sys, yaml
path, name = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
bad = [i for i, d in enumerate(docs)
       if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind")
       or not (d.get("metadata") or {}).get("name")]
if not docs or bad:
    print(f"check_manifests: kubectl kustomize {name}: "
          + ("no objects" if not docs else f"documents {bad} lack apiVersion, kind or metadata.name"))
    sys.exit(1)
PY
      failed=1
    fi
  done

  local units=()
  for unit in "$deploy_dir"/systemd/*.service; do
    local name
    name=$(basename "$unit")
    sed "s|/usr/bin/causeway|$CAUSEWAY_BIN/causeway|g" "$unit" >"$scratch/$name"
    # A template is verified through one instance of it.
    units+=("${name/@./@check.}")
    [ "$name" != "${name/@./@check.}" ] && cp "$scratch/$name" "$scratch/${name/@./@check.}"
  done
  if ((${#units[@]} == 0)); then
    echo "check_manifests: no units under $deploy_dir/systemd"
    failed=1
  else
    local report
    report=$(cd "$scratch" && systemd-analyze verify "${units[@]}" 2>&1) || failed=1
    if [ -n "$report" ]; then
      echo "check_manifests: systemd-analyze verify: $report"
      failed=1
    fi
  fi
  return $failed
}

if [ "${1:-}" = "--self-test" ]; then
  copy=$(mktemp -d)
  trap 'rm -rf "$copy"' EXIT
  cp -r "$here/../../deploy/." "$copy/"
  # Planted: a kustomization naming a file that is not there, and a unit
  # with an unknown key and a bad value.
  echo "  - no-such-file.yaml" >>"$copy/kubernetes/staging/kustomization.yaml"
  unit=$(ls "$copy"/systemd/*.service | head -1)
  sed -i 's/^\[Service\]/[Service]\nRestartt=always\nRestart=sometimes/' "$unit"
  if out=$(check "$copy"); then
    echo "check_manifests self-test: the planted mistakes were not noticed" >&2
    exit 1
  fi
  for want in "kubectl kustomize kubernetes/staging" "Restartt" "sometimes"; do
    if ! grep -q "$want" <<<"$out"; then
      echo "check_manifests self-test: no report naming '$want' in:" >&2
      echo "$out" >&2
      exit 1
    fi
  done
  echo "check_manifests self-test: the planted mistakes were reported"
  exit 0
fi

deploy_dir=${1:-$here/../../deploy}
if out=$(check "$deploy_dir"); then
  echo "check_manifests: every kustomization builds and every unit verifies"
else
  echo "$out" >&2
  exit 1
fi
