#!/usr/bin/env bash
# Installs the ONNX Runtime harness dependency (onnxruntime-node, pinned in package.json /
# package-lock.json) into scripts/ort/node_modules.
#
# Idempotent: does nothing (silently) if the pinned onnxruntime-node is already installed.
# Uses --ignore-scripts: onnxruntime-node's postinstall would try to download extra binaries;
# the npm package already bundles the Linux x64 CPU library, which is all the harness needs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

pkg_dir="node_modules/onnxruntime-node"
if [[ -f "$pkg_dir/package.json" ]]; then
  if command -v node >/dev/null 2>&1; then
    want="$(node -p "require('./package.json').dependencies['onnxruntime-node']" 2>/dev/null || true)"
    have="$(node -p "require('./$pkg_dir/package.json').version" 2>/dev/null || true)"
    if [[ -n "$want" && "$want" == "$have" ]]; then
      exit 0
    fi
  else
    exit 0
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  echo "scripts/ort/install.sh: 'node' not found; install Node.js (>= 18) to use the ORT harness" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "scripts/ort/install.sh: 'npm' not found; install npm to use the ORT harness" >&2
  exit 1
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  echo "scripts/ort/install.sh: 'npm ci --ignore-scripts' failed in $here:" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
fi

if [[ ! -f "$pkg_dir/package.json" ]]; then
  echo "scripts/ort/install.sh: npm ci succeeded but $pkg_dir is missing" >&2
  exit 1
fi
