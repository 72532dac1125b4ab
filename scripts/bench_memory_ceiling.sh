#!/usr/bin/env bash
# Issue 9's memory ceiling: a model with >= 6 GiB of external data (7 MatMul weights of
# 15360x15360 fp32, 0.88 GiB each, and a 262144x512 Gather table) is generated in a temp folder,
# then `effdl inspect`, `effdl optimize --passes cleanup` and `effdl optimize --quantize
# weight-only` run under /usr/bin/time -v. Prints peak RSS against its limit (256 MiB for inspect;
# 2x the largest tensor + 256 MiB for the others) and time against `cp` + `sync` of the model.
# Page cache: nothing is dropped (that needs root and disturbs the other users of the machine);
# every timed command, cp included, runs right after a read of the model's files, so all of them
# read from a warm cache. Run by hand: writes ~13.5 GiB at its peak, removed at the end; ~5 min.
# Usage: scripts/bench_memory_ceiling.sh [DIR]   (default: a new folder under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
effdl=${EFFDL:-build-cc/effdl}
[[ -x $effdl ]] || { echo "no $effdl: build first (or set EFFDL)"; exit 1; }
parent=${1:-/tmp}
need_gib=15  # model 6.7 + cleanup output 6.7 + headroom; the quantized output (1.7) comes after it is removed
avail_kb=$(df -Pk "$parent" | awk 'NR == 2 {print $4}')
if (( avail_kb < need_gib * 1024 * 1024 )); then
  echo "SKIPPED: $parent has $((avail_kb / 1024 / 1024)) GiB free; the model and its outputs need ${need_gib} GiB"
  exit 0
fi
dir=$(mktemp -d "$parent/effdl-ceiling.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# The generator writes the data file chunk by chunk, so it needs a few hundred MiB, not the
# 12+ GiB that onnx.save of a 6 GiB in-memory model would.
/usr/bin/python3 - "$dir" <<'PY'
import os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper
d = sys.argv[1]
rng = np.random.default_rng(0)
n, layers, rows, dim = 15360, 7, 262144, 512
inits, nodes, offset = [], [], 0
with open(f"{d}/big.onnx.data", "wb") as f:
    def put(name, shape):
        global offset
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=shape)
        t.data_location = TensorProto.EXTERNAL
        nbytes = int(np.prod(shape)) * 4
        for k, v in (("location", "big.onnx.data"), ("offset", str(offset)), ("length", str(nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        left = shape[0]
        while left:
            r = min(left, 1024)
            f.write((rng.standard_normal((r, shape[1]), dtype=np.float32) * 0.01).tobytes())
            left -= r
        offset += nbytes
        inits.append(t)
    x = "x"
    for i in range(layers):
        put(f"w{i}", [n, n])
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"h{i}" if i < layers - 1 else "y"]))
        x = f"h{i}"
    put("table", [rows, dim])
    nodes.append(helper.make_node("Gather", ["table", "ids"], ["emb"]))
g = helper.make_graph(
    nodes, "ceiling",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n]),
     helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n]),
     helper.make_tensor_value_info("emb", TensorProto.FLOAT, [1, 8, dim])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
with open(f"{d}/big.onnx", "wb") as f:
    f.write(m.SerializeToString())
PY
model=$dir/big.onnx
bytes=$(( $(stat -c %s "$model") + $(stat -c %s "$model.data") ))
largest=$(( 15360 * 15360 * 4 ))
warm() { cat "$model" "$model.data" >/dev/null; }

source scripts/lib/cp_timing.sh
cp_best=$(cp_sync_seconds "$dir" "$model" "$model.data")

# name | command...: runs it warm under /usr/bin/time -v, appends "name secs rss_kb exit".
rows=$dir/rows.txt
: >"$rows"
measure() {
  local name=$1
  shift
  warm
  sync
  local rc=0
  /usr/bin/time -v -o "$dir/time.txt" "$@" >"$dir/out.txt" 2>"$dir/err.txt" || rc=$?
  /usr/bin/python3 - "$dir/time.txt" "$name" "$rc" >>"$rows" <<'PY'
import sys
t, name, rc = sys.argv[1:]
secs = rss = 0.0
for line in open(t):
    k, _, v = line.strip().rpartition(": ")
    if k == "Maximum resident set size (kbytes)":
        rss = int(v)
    elif k.startswith("Elapsed (wall clock) time"):
        parts = [float(p) for p in v.split(":")]
        secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
print(name, secs, rss, rc)
PY
  if [[ $rc != 0 ]]; then echo "$name failed (exit $rc):"; tail -3 "$dir/err.txt"; fi
}

measure inspect "$effdl" -q inspect "$model"
measure cleanup "$effdl" -q optimize "$model" -o "$dir/clean.onnx" --passes cleanup --bench-iters 0 --fidelity-samples 0
rm -f "$dir/clean.onnx" "$dir/clean.onnx.data"
measure weight-only "$effdl" -q optimize "$model" -o "$dir/q.onnx" --quantize weight-only --bench-iters 0 --fidelity-samples 0
q_bytes=$(( $(stat -c %s "$dir/q.onnx" 2>/dev/null || echo 0) + $(stat -c %s "$dir/q.onnx.data" 2>/dev/null || echo 0) ))
rm -f "$dir/q.onnx" "$dir/q.onnx.data"

/usr/bin/python3 - "$rows" "$bytes" "$largest" "$cp_best" "$q_bytes" <<'PY'
import sys
rows, model, largest, cp, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
MiB, GiB = 2**20, 2**30
print(f"model {model / GiB:.2f} GiB of weights in external data, largest tensor {largest / GiB:.3f} GiB; "
      f"weight-only output {q / GiB:.2f} GiB")
print(f"cp + sync of the model (faster of 2 runs): {cp:.2f} s")
print(f"{'command':<12} {'peak RSS':>10} {'RSS limit':>10} {'time':>8} {'time/cp':>8} {'limit':>6}  result")
bad = 0
for line in open(rows):
    name, secs, rss_kb, rc = line.split()
    secs, rss = float(secs), int(rss_kb) * 1024
    limit = 256 * MiB if name == "inspect" else 2 * largest + 256 * MiB
    time_ok = name == "inspect" or secs <= 2 * cp
    ok = rc == "0" and rss <= limit and time_ok
    bad += not ok
    tl = "-" if name == "inspect" else "2.00x"
    print(f"{name:<12} {rss / MiB:>6.0f} MiB {limit / MiB:>6.0f} MiB {secs:>7.2f}s {secs / cp:>7.2f}x {tl:>6}  "
          f"{'PASS' if ok else 'FAIL'}{'' if rc == '0' else ' (exit ' + rc + ')'}")
sys.exit(1 if bad else 0)
PY
