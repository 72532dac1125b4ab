#!/usr/bin/env bash
# Optimize every ONNX model under a folder tree with effdl, keeping the tree's relative paths,
# the way a shell script or a CI job would. Extra arguments go to `effdl optimize`.
#
#   scripts/batch_optimize.sh SRC_DIR OUT_DIR [effdl optimize flags...]
#   scripts/batch_optimize.sh models/ /tmp/opt --passes cleanup --jobs 2
#
# Two ways, both shown:
#   1. one effdl call for the whole tree (effdl walks it, one process per model, --jobs N);
#   2. find + xargs, one effdl call per model — the shape to copy when models are spread over
#      machines (GNU parallel, a CI matrix, a Kubernetes Job per shard): effdl keeps no state
#      between models, so any split of the list gives the same files.
# Exit code: 0 when every model was optimized, 6 when some failed (effdl's batch code).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 1
fi
src=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
effdl=${EFFDL:-$here/build/effdl}
[[ -x $effdl ]] || { echo "batch_optimize.sh: $effdl not found; build first (scripts/test.sh or cmake --build build)" >&2; exit 1; }

if [[ ${BATCH_MODE:-tree} == tree ]]; then
  # 1. effdl walks the tree itself.
  exec "$effdl" optimize "$src" --out-dir "$out" "$@"
fi

# 2. One call per model (BATCH_MODE=xargs), e.g. to feed GNU parallel or a CI matrix instead.
status=0
while IFS= read -r -d '' model; do
  rel=${model#"$src"/}
  mkdir -p "$out/$(dirname "$rel")"
  if ! "$effdl" optimize "$model" -o "$out/$rel" "$@"; then
    echo "batch_optimize.sh: failed: $model" >&2
    status=6
  fi
done < <(find "$src" -name '.*' -prune -o -type f -name '*.onnx' -print0 | sort -z)
exit $status
