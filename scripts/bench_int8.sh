#!/usr/bin/env bash
# int8 in effdl's runtime: a static QDQ resnet18 (scripts/qdq_quantize.py: u8 asymmetric
# activations with Relu folded into the ranges, s8 per-channel weights, int32 bias) against its
# fp32 source (BatchNorm folded), in effdl and in ONNX Runtime at one thread, side by side, and
# issue 4's target: effdl int8 p50 <= 0.6x effdl fp32 p50 (checked for resnet18 only).
#
#   scripts/bench_int8.sh [--model resnet18|mobilenet_v2] [--iters N] [--warmup W] [--rounds R]
#                         [--zoo DIR] [--effdl PATH] [--requantize]
#
#   --iters N     timed runs per measurement (default 30); --warmup W untimed runs first (default 5)
#   --rounds R    each of the four cells is measured R times, in rotated order; the table shows the
#                 median p50 (default 3): other agents' compiles make single runs noisy
#   --zoo DIR     where MODEL.onnx is, exported by scripts/make_zoo.py when missing (default /tmp/effdl-zoo)
#   --effdl PATH  the effdl binary (default build/effdl, or $EFFDL)
#   --requantize  rebuild the QDQ model even when DIR/MODEL_qdq.onnx exists
#
# Then the outputs on 4 seeded normal(0, 1) inputs (the calibration distribution): effdl int8
# against ORT int8 (max |diff| relative to the logits' scale) and both against fp32 (cosine,
# top-1 agreement).
#
# Exit codes: 0 the target is met, 1 it is not, 2 usage or setup error.
set -euo pipefail
cd "$(dirname "$0")/.."

iters=30 warmup=5 rounds=3 zoo=/tmp/effdl-zoo effdl=${EFFDL:-build/effdl} requantize=0 model=resnet18
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "bench_int8: $*" >&2; exit 2; }
while (($#)); do
  case $1 in
    --model) (($# >= 2)) || usage; model=$2; shift 2 ;;
    --iters) (($# >= 2)) || usage; iters=$2; shift 2 ;;
    --warmup) (($# >= 2)) || usage; warmup=$2; shift 2 ;;
    --rounds) (($# >= 2)) || usage; rounds=$2; shift 2 ;;
    --zoo) (($# >= 2)) || usage; zoo=$2; shift 2 ;;
    --effdl) (($# >= 2)) || usage; effdl=$2; shift 2 ;;
    --requantize) requantize=1; shift ;;
    -h | --help) usage ;;
    *) echo "bench_int8: unknown argument '$1'" >&2; usage ;;
  esac
done
for v in "$iters" "$warmup" "$rounds"; do [[ $v =~ ^[0-9]+$ ]] || die "counts must be integers (got '$v')"; done
[[ -x $effdl ]] || die "effdl binary not found: $effdl (build it, or pass --effdl)"
node scripts/ort/ort_run.js check >/dev/null 2>&1 || die "ONNX Runtime is not usable (run scripts/ort/install.sh)"

[[ $model == resnet18 || $model == mobilenet_v2 ]] || die "--model must be resnet18 or mobilenet_v2"
src=$zoo/$model.onnx f32=$zoo/${model}_f32_folded.onnx qdq=$zoo/${model}_qdq.onnx
if [[ ! -f $src ]]; then
  echo "bench_int8: exporting $model into $zoo" >&2
  /usr/bin/python3 scripts/make_zoo.py "$zoo" --only "$model" >&2
fi
if ((requantize)) || [[ ! -f $qdq || ! -f $f32 ]]; then
  echo "bench_int8: quantizing $src" >&2
  /usr/bin/python3 scripts/qdq_quantize.py "$src" "$qdq" --save-float "$f32" --effdl "$effdl" >&2
fi

tmp=$(mktemp -d /tmp/effdl-bench-int8.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
p50() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["latency_ms"]["p50"] if d.get("ok") else "")' "$1" 2>/dev/null || true; }

cells=("effdl fp32" "effdl int8" "ORT fp32" "ORT int8")
declare -A runs
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < 4; k++)); do
    cell=${cells[$(((k + r) % 4))]}
    path=$f32
    [[ $cell == *int8 ]] && path=$qdq
    echo "bench_int8: round $((r + 1))/$rounds: $cell" >&2
    if [[ $cell == effdl* ]]; then
      "$effdl" bench "$path" --threads 1 --warmup "$warmup" --iters "$iters" --json >"$tmp/out.json" 2>"$tmp/err" || true
    else
      node scripts/ort/ort_run.js bench "$path" --threads 1 --warmup "$warmup" --iters "$iters" --random 0 --json \
        >"$tmp/out.json" 2>"$tmp/err" || true
    fi
    v=$(p50 "$tmp/out.json")
    [[ -n $v ]] || die "$cell failed: $(tail -n 1 "$tmp/err")"
    runs[$cell]+="$v "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ef=$(median "${runs[effdl fp32]}") ei=$(median "${runs[effdl int8]}")
of=$(median "${runs[ORT fp32]}") oi=$(median "${runs[ORT int8]}")
echo
echo "$model 1x3x224x224, 1 thread, median of $rounds p50s ($iters runs after $warmup warm-up each);" \
  "1-min load average $(cut -d' ' -f1 /proc/loadavg)"
# --- agreement on seeded inputs
for s in 0 1 2 3; do
  mkdir -p "$tmp/in$s" "$tmp/ef$s" "$tmp/ei$s" "$tmp/oi$s"
  /usr/bin/python3 -c 'import sys, numpy as np; np.save(sys.argv[1], np.random.default_rng(100 + int(sys.argv[2])).standard_normal((1, 3, 224, 224)).astype(np.float32))' \
    "$tmp/in$s/input.npy" "$s"
  "$effdl" run "$f32" --input "input=$tmp/in$s/input.npy" --output-dir "$tmp/ef$s" --threads 1 >/dev/null
  "$effdl" run "$qdq" --input "input=$tmp/in$s/input.npy" --output-dir "$tmp/ei$s" --threads 1 >/dev/null
  node scripts/ort/ort_run.js run "$qdq" --input-dir "$tmp/in$s" --output-dir "$tmp/oi$s" >/dev/null
done
/usr/bin/python3 - "$tmp" <<'PY'
import sys, numpy as np
t = sys.argv[1]
cos = lambda a, b: float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b))
rel, ce, co, te, to = [], [], [], 0, 0
for s in range(4):
    f, e, o = (np.load(f"{t}/{d}{s}/logits.npy").ravel().astype(np.float64) for d in ("ef", "ei", "oi"))
    rel.append(np.abs(e - o).max() / np.abs(o).max())
    ce.append(cos(e, f)); co.append(cos(o, f))
    te += e.argmax() == f.argmax(); to += o.argmax() == f.argmax()
print(f"outputs on 4 seeded inputs: effdl int8 vs ORT int8 max |diff| / max |logit| {max(rel):.4f}; "
      f"cosine with fp32 min effdl {min(ce):.5f}, ORT {min(co):.5f}; top-1 as fp32: effdl {te}/4, ORT {to}/4")
PY
awk -v model="$model" -v ef="$ef" -v ei="$ei" -v of="$of" -v oi="$oi" -v runs_ef="${runs[effdl fp32]}" -v runs_ei="${runs[effdl int8]}" \
  -v runs_of="${runs[ORT fp32]}" -v runs_oi="${runs[ORT int8]}" 'BEGIN {
  printf "%-8s %12s %12s %14s\n", "", "effdl (ms)", "ORT (ms)", "effdl/ORT"
  printf "%-8s %12.2f %12.2f %13.2fx\n", "fp32", ef, of, ef / of
  printf "%-8s %12.2f %12.2f %13.2fx\n", "int8", ei, oi, ei / oi
  printf "%-8s %11.2fx %11.2fx\n", "int8/fp32", ei / ef, oi / of
  printf "p50s: effdl fp32 %s| effdl int8 %s| ORT fp32 %s| ORT int8 %s\n", runs_ef, runs_ei, runs_of, runs_oi
  ok = ei / ef <= 0.6
  if (model != "resnet18") exit 0
  printf "target: effdl static int8 resnet18 <= 0.6x effdl fp32 p50: %.2fx %s\n", ei / ef, ok ? "PASS" : "FAIL"
  exit ok ? 0 : 1
}'
