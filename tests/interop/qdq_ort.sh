#!/usr/bin/env bash
# effdl's int8 execution against ONNX Runtime's on small QDQ models (scripts/make_qdq_models.py:
# the patterns effdl fuses into int8 kernels, which ORT fuses too): same inputs, outputs within
# one quantization step (float outputs within 1e-4 of their scale). Exit 77 (ctest: skipped) when
# ONNX Runtime is not available.
set -uo pipefail
effdl=$1
src=$2
harness="$src/scripts/ort/ort_run.js"
if ! why=$(node "$harness" check 2>&1); then
  echo "SKIPPED: ONNX Runtime is not available: $why"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$src/scripts/make_qdq_models.py" "$tmp" || { echo "FAILED: scripts/make_qdq_models.py"; exit 1; }
failures=0 count=0
for model in "$tmp"/*.onnx; do
  name=$(basename "$model" .onnx)
  count=$((count + 1))
  mkdir -p "$tmp/$name.effdl" "$tmp/$name.ort"
  if ! err=$("$effdl" run "$model" --input "x=$tmp/$name.in/x.npy" --output-dir "$tmp/$name.effdl" --threads 1 2>&1 >/dev/null); then
    echo "FAIL $name: effdl: $err"
    failures=$((failures + 1))
    continue
  fi
  if ! err=$(node "$harness" run "$model" --input-dir "$tmp/$name.in" --output-dir "$tmp/$name.ort" 2>&1 >/dev/null); then
    echo "FAIL $name: ORT: $err"
    failures=$((failures + 1))
    continue
  fi
  if ! /usr/bin/python3 - "$tmp/$name" <<'PY'; then failures=$((failures + 1)); fi
import glob
import sys
import numpy as np
base = sys.argv[1]
name = base.rsplit("/", 1)[1]
kind, value = open(base + ".tol").read().split()
(ef,), (of,) = glob.glob(base + ".effdl/*.npy"), glob.glob(base + ".ort/*.npy")  # the one output
e, o = np.load(ef), np.load(of)
if e.shape != o.shape:
    print(f"FAIL {name}: shapes {e.shape} (effdl) and {o.shape} (ORT) differ")
    sys.exit(1)
tol = float(value) * 1.001 if kind == "abs" else float(value) * float(np.abs(o).max())
d = np.abs(e.astype(np.float64) - o)
verdict = "PASS" if d.max() <= tol else "FAIL"
print(f"{verdict} {name}: max |effdl - ORT| {d.max():.6g} (allowed {tol:.6g}), {int((d > 0).sum())} of {d.size} elements differ")
sys.exit(verdict != "PASS")
PY
done
echo "qdq_ort: $((count - failures)) of $count models agree"
((failures == 0))
