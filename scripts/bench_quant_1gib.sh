#!/usr/bin/env bash
# Issue 4's tool-speed check for weight-only quantization of a 1 GiB fp32 model: effdl's time
# against `cp` + `sync` of the same files (NOTES: a write with fsync costs ~2x a plain cp), both
# right after a warm read of the model, and effdl's peak RSS against the model's size. The model (4 MatMuls of 8192x8192 fp32 weights,
# external data) is written once to /tmp/effdl-1gib. Run by hand: writes ~1.3 GiB.
# Usage: scripts/bench_quant_1gib.sh [--effdl PATH]   (default build-cc/effdl, or $EFFDL)
set -euo pipefail
cd "$(dirname "$0")/.."
effdl=${EFFDL:-build-cc/effdl}
if [[ ${1:-} == --effdl ]]; then effdl=${2:?--effdl needs a path}; fi
[[ -x $effdl ]] || { echo "no $effdl: build first (or pass --effdl)"; exit 1; }
dir=/tmp/effdl-1gib
mkdir -p "$dir"
if [[ ! -f $dir/mlp_1gib.onnx ]]; then
  /usr/bin/python3 - "$dir" <<'PY'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
d = sys.argv[1]
rng = np.random.default_rng(0)
n, layers = 8192, 4
inits, nodes, x = [], [], "x"
for i in range(layers):
    w = (rng.standard_normal((n, n), dtype=np.float32) * 0.01)
    inits.append(numpy_helper.from_array(w, f"w{i}"))
    nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"h{i}" if i < layers - 1 else "y"]))
    x = f"h{i}"
g = helper.make_graph(nodes, "mlp_1gib", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
onnx.save_model(m, f"{d}/mlp_1gib.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                location="mlp_1gib.onnx.data")
PY
fi
bytes=$(( $(stat -c %s "$dir/mlp_1gib.onnx") + $(stat -c %s "$dir/mlp_1gib.onnx.data") ))
warm() { cat "$dir/mlp_1gib.onnx" "$dir/mlp_1gib.onnx.data" >/dev/null; }
source scripts/lib/cp_timing.sh
cp_secs=$(cp_sync_seconds "$dir" "$dir/mlp_1gib.onnx" "$dir/mlp_1gib.onnx.data" 2>/dev/null)
# effdl likewise twice, each right after a warm read and a sync: the faster run against the faster
# cp (this VM's I/O has outliers of 1.5-2x either way), the larger peak RSS.
secs= rss_kb=0
for i in 1 2; do
  warm
  sync
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$effdl" -q optimize "$dir/mlp_1gib.onnx" -o "$dir/q.onnx" --force \
    --quantize weight-only --threads 1 --bench-iters 0 --fidelity-samples 0 >/dev/null
  read -r s k <"$dir/time.txt"
  echo "effdl weight-only run $i: $s s" >&2
  if [[ -z $secs ]] || (( $(echo "$s < $secs" | bc -l) )); then secs=$s; fi
  (( k > rss_kb )) && rss_kb=$k
done
/usr/bin/python3 -c "
b=$bytes; cp=$cp_secs; t=$secs; rss=$rss_kb*1024
print(f'model {b/2**30:.2f} GiB -> {__import__(\"os\").path.getsize(\"$dir/q.onnx\")/2**30:.3f} GiB')
print(f'cp+sync (faster of 2) {cp:.2f} s, effdl weight-only (faster of 2) {t:.2f} s: {t/cp:.2f}x (target <= 2x)')
print(f'peak RSS {rss/2**30:.2f} GiB: {rss/b:.2f}x the model (target <= 1.5x)')"
