#!/usr/bin/env bash
# effdl vs ONNX Runtime on single recurrent layers (seq 64, batch 4, input 128, hidden 256, with
# bias, bidirectional): p50 at 1 thread, side by side in one run.
# usage: scripts/bench_recurrent.sh [EFFDL]   (default: build/effdl)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
effdl=${1:-$src/build/effdl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
seq, batch, inp, hid = 64, 4, 128, 256
rng = np.random.default_rng(0)
for op, g in (("RNN", 1), ("GRU", 3), ("LSTM", 4)):
    w = numpy_helper.from_array(rng.uniform(-.1, .1, [2, g * hid, inp]).astype(np.float32), "W")
    r = numpy_helper.from_array(rng.uniform(-.1, .1, [2, g * hid, hid]).astype(np.float32), "R")
    b = numpy_helper.from_array(rng.uniform(-.1, .1, [2, 2 * g * hid]).astype(np.float32), "B")
    node = helper.make_node(op, ["X", "W", "R", "B"], ["Y"], hidden_size=hid, direction="bidirectional")
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [seq, batch, inp])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [seq, 2, batch, hid])],
                              initializer=[w, r, b])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, f"{sys.argv[1]}/{op.lower()}.onnx")
PY
p50() { /usr/bin/python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["latency_ms"]["p50"])'; }
printf '%-6s %12s %12s %8s\n' op "effdl ms" "ORT ms" ratio
for op in rnn gru lstm; do
  e=$("$effdl" bench "$tmp/$op.onnx" --threads 1 --iters 30 --json | p50)
  o=$(node "$src/scripts/ort/ort_run.js" bench "$tmp/$op.onnx" --threads 1 --iters 30 --json | p50)
  printf '%-6s %12s %12s %8s\n' "$op" "$e" "$o" "$(/usr/bin/python3 -c "print('%.2f' % ($e / $o))")"
done
