#!/usr/bin/env bash
# Per-inference overhead of a session: effdl bench on a 1-node Add model of two float[1] inputs,
# where the kernel's own work is nanoseconds, so the latency is the session's per-run cost
# (input checks, executor loop, buffer pool). The issue's bar: p50 < 20 us. ONNX Runtime's
# figure on the same model is printed beside it (it includes node's copy of outputs into JS).
# usage: scripts/bench_overhead.sh [EFFDL_BINARY]   (default: build/effdl)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
effdl=${1:-$src/build/effdl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/add.onnx" <<'PY'
import sys
import onnx
from onnx import TensorProto, helper
g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "add",
                      [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in "ab"],
                      [helper.make_tensor_value_info("c", TensorProto.FLOAT, [1])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.save(m, sys.argv[1])
PY
p50_us() { /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print("%.2f" % (j["latency_ms"]["p50"]*1000))'; }
effdl_p50=$("$effdl" bench "$tmp/add.onnx" --threads 1 --warmup 1000 --iters 20000 --json | p50_us)
echo "effdl  1-node Add, 1 thread, 20000 runs: p50 ${effdl_p50} us"
if node "$src/scripts/ort/ort_run.js" check >/dev/null 2>&1; then
  ort_p50=$(node "$src/scripts/ort/ort_run.js" bench "$tmp/add.onnx" --threads 1 --warmup 1000 --iters 20000 --json | p50_us)
  echo "ORT    1-node Add, 1 thread, 20000 runs: p50 ${ort_p50} us (includes the JS output copy)"
fi
/usr/bin/python3 -c "import sys; v=float(sys.argv[1]); print('overhead < 20 us:', 'yes' if v < 20 else 'NO'); sys.exit(0 if v < 20 else 1)" "$effdl_p50"
