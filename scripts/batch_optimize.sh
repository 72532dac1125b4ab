#!/usr/bin/env bash
# Optimize every ONNX model under a folder tree with effdl, keeping the tree's relative paths,
# the way a shell script or a CI job would. Extra arguments go to `effdl optimize`.
#
#   scripts/batch_optimize.sh SRC_DIR OUT_DIR [effdl optimize flags...]
#   scripts/batch_optimize.sh models/ /tmp/opt --recipe recipe.json --jobs 2
#   BATCH_MODE=each scripts/batch_optimize.sh models/ /tmp/opt --recipe recipe.json
#   SHARD=1/4 scripts/batch_optimize.sh models/ /tmp/opt --recipe recipe.json
#
# Two ways, both shown:
#   tree (default): one effdl call for the whole tree (effdl walks it, one process per model,
#      --jobs N at once) and prints one summary;
#   each (BATCH_MODE=each): find, then one effdl call per model, SRC/a/b.onnx -> OUT/a/b.onnx.
#      SHARD=I/N keeps every N-th model of the sorted list, starting at the I-th (0-based): the
#      shape for a CI matrix or a Kubernetes Indexed Job, one shard per machine. effdl keeps no
#      state between models, so any split of the list gives the same files.
# Exit code: 0 when every model was optimized, 6 when some failed (effdl's batch code).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 1
fi
src=${1%/} out=${2%/}
shift 2
[[ -n $src ]] || src=/
here=$(cd "$(dirname "$0")/.." && pwd)
effdl=${EFFDL:-$here/build/effdl}
[[ -x $effdl ]] || { echo "batch_optimize.sh: $effdl not found; build first (scripts/test.sh or cmake --build build)" >&2; exit 1; }
[[ -d $src ]] || { echo "batch_optimize.sh: $src: not a folder" >&2; exit 1; }

shard=0 shards=1
if [[ -n ${SHARD:-} ]]; then
  if [[ ! $SHARD =~ ^([0-9]+)/([1-9][0-9]*)$ ]] || (( BASH_REMATCH[1] >= BASH_REMATCH[2] )); then
    echo "batch_optimize.sh: SHARD=$SHARD: expected I/N with 0 <= I < N, e.g. SHARD=0/4" >&2
    exit 1
  fi
  shard=${BASH_REMATCH[1]} shards=${BASH_REMATCH[2]}
  BATCH_MODE=each
fi

if [[ ${BATCH_MODE:-tree} == tree ]]; then
  exec "$effdl" optimize "$src" --out-dir "$out" "$@"
fi
[[ ${BATCH_MODE} == each ]] || { echo "batch_optimize.sh: BATCH_MODE=$BATCH_MODE: expected tree or each" >&2; exit 1; }

# One call per model, in name order (the same order on every machine, so shards do not overlap).
# The output folder is skipped when it lies inside the source tree.
status=0 index=0 count=0
while IFS= read -r -d '' model; do
  (( index++ % shards == shard )) || continue
  rel=${model#"$src"/}
  mkdir -p "$out/$(dirname "$rel")"
  count=$((count + 1))
  if ! "$effdl" optimize "$model" -o "$out/$rel" "$@"; then
    echo "batch_optimize.sh: failed: $model" >&2
    status=6
  fi
done < <(find "$src" -mindepth 1 -path "$out" -prune -o -name '.*' -prune -o -type f -name '*.onnx' -print0 | LC_ALL=C sort -z)
echo "batch_optimize.sh: shard $shard/$shards: $count models, $([[ $status == 0 ]] && echo "all optimized" || echo "some failed")" >&2
exit $status
