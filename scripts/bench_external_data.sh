#!/usr/bin/env bash
# Benchmark: load + save of a model with 1 GiB of external data (effdl convert, weights kept
# external) against `cp` of the same files followed by `sync` of the copies (effdl fsyncs what it
# writes, so a plain cp would not be a fair baseline). Prints both times and the ratio; the
# foundation issue asks for a ratio <= 2.
#   scripts/bench_external_data.sh [SIZE_MIB (default 1024)] [RUNS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
effdl=${EFFDL:-build/effdl}
[[ -x $effdl ]] || scripts/setup.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/effdl-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/cp" "$work/effdl"

/usr/bin/python3 - "$work/in" "$size_mib" <<'PY'
# A chain of Adds over 64 MiB float initializers, stored in one external-data file.
import sys, numpy as np, onnx
from onnx import helper, TensorProto
folder, size_mib = sys.argv[1], int(sys.argv[2])
n = max(1, size_mib // 64)
elems = 64 * 1024 * 1024 // 4
rng = np.random.default_rng(0)
inits, nodes, prev = [], [], "x"
with open(f"{folder}/model.onnx.data", "wb") as f:
    for i in range(n):
        data = rng.standard_normal(elems, dtype=np.float32)
        off = f.tell()
        f.write(data.tobytes())
        tp = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[elems])
        tp.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "model.onnx.data"), ("offset", str(off)), ("length", str(elems * 4))):
            e = tp.external_data.add(); e.key = k; e.value = v
        inits.append(tp)
        nodes.append(helper.make_node("Add", [prev, f"w{i}"], [f"y{i}"]))
        prev = f"y{i}"
g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [elems])],
                      [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [elems])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
open(f"{folder}/model.onnx", "wb").write(m.SerializeToString())
PY
bytes=$(du -cb "$work/in"/* | tail -1 | cut -f1)

best_cp=999999 best_effdl=999999
for ((r = 0; r < runs; r++)); do
  rm -f "$work/cp"/* "$work/effdl"/*
  sync
  t0=$(date +%s.%N)
  cp "$work/in/model.onnx" "$work/in/model.onnx.data" "$work/cp/"
  sync "$work/cp/model.onnx" "$work/cp/model.onnx.data"
  t1=$(date +%s.%N)
  "$effdl" convert "$work/in/model.onnx" -o "$work/effdl/model.onnx" --external-data always
  t2=$(date +%s.%N)
  best_cp=$(awk -v a="$t0" -v b="$t1" -v m="$best_cp" 'BEGIN {d = b - a; print (d < m) ? d : m}')
  best_effdl=$(awk -v a="$t1" -v b="$t2" -v m="$best_effdl" 'BEGIN {d = b - a; print (d < m) ? d : m}')
done
ratio=$(awk -v a="$best_effdl" -v b="$best_cp" 'BEGIN {print a / b}')
printf 'external data: %d bytes in 2 files, best of %d runs\n' "$bytes" "$runs"
printf '  cp + sync          %7.3f s\n' "$best_cp"
printf '  effdl convert      %7.3f s   (load: validate + mmap; save: write + fsync + rename)\n' "$best_effdl"
printf '  ratio effdl / cp   %7.2f   (target <= 2.00)\n' "$ratio"
