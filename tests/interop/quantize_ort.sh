#!/usr/bin/env bash
# Quantized bundled models in ONNX Runtime: every mode's output loads and runs in ORT, agrees
# with the fp32 model, and keeps accuracy on the models' own test splits (issue 4): digits CNN
# static int8 (calibrated on a training split written by scripts/make_calib.py) and the text
# classifier dynamic int8 lose <= 0.5 points. effdl's runtime agrees with ORT on them (skipped,
# naming the kernel, while it lacks int8 kernels). Same flags twice give byte-identical files.
# Exit 77 (ctest: skipped) when ONNX Runtime is not available.
set -uo pipefail
effdl=$1
src=$2
harness="$src/scripts/ort/ort_run.js"
py=/usr/bin/python3

if ! why=$(node "$harness" check 2>&1); then
  echo "SKIPPED: ONNX Runtime is not available: $why"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
$py "$src/scripts/make_calib.py" "$tmp/calib" 100 >/dev/null || { echo "FAILED: make_calib.py"; exit 1; }

quantize() {  # model out flags...
  local model=$1 out=$2
  shift 2
  if ! "$effdl" -q optimize "$model" -o "$out" --force --threads 1 --bench-iters 0 --fidelity-samples 0 "$@" >"$tmp/log" 2>&1; then
    echo "FAILED: effdl optimize $(basename "$model") $*: $(tail -1 "$tmp/log")"
    fail=1
    return 1
  fi
}

# accuracy MODEL X.npy Y.npy INPUT -> prints the accuracy in ORT
accuracy() {
  local d
  d=$(mktemp -d -p "$tmp")
  cp "$2" "$d/$4.npy"
  node "$harness" run "$1" --input-dir "$d" --output-dir "$d/out" >/dev/null 2>"$d/err" || {
    echo "ORT-FAIL: $(tail -1 "$d/err")"
    return
  }
  $py -c "import numpy as np,glob; l=np.load(glob.glob('$d/out/*.npy')[0]); y=np.load('$3'); print('%.4f' % (l.argmax(1)==y).mean())"
}

# check NAME FP32 QUANT X Y INPUT MAXDROP_POINTS
declare -A baseline  # fp32 accuracy per model, computed once
check() {
  local base q
  [[ -n ${baseline[$2]:-} ]] || baseline[$2]=$(accuracy "$2" "$4" "$5" "$6")
  base=${baseline[$2]}
  q=$(accuracy "$3" "$4" "$5" "$6")
  if [[ $q == ORT-FAIL* ]]; then
    echo "FAILED: $1: ONNX Runtime cannot run the quantized model: $q"
    fail=1
    return
  fi
  if $py -c "import sys; sys.exit(0 if ($base - $q) * 100 <= $7 + 1e-9 else 1)"; then
    echo "ok: $1: accuracy $base -> $q (max drop $7 points)"
  else
    echo "FAILED: $1: accuracy $base -> $q drops more than $7 points"
    fail=1
  fi
}

# agree NAME MODEL X.npy INPUT: effdl's runtime and ORT give the same classes and near-equal
# logits on the test split. Until effdl's runtime has the int8 kernels it reports the missing
# kernel as skipped (the ORT checks above still apply).
agree() {
  local d
  d=$(mktemp -d -p "$tmp")
  mkdir -p "$d/e"
  cp "$3" "$d/$4.npy"
  if ! "$effdl" run "$2" -i "$4=$d/$4.npy" --output-dir "$d/e" --threads 1 >/dev/null 2>"$d/err"; then
    if grep -q "no kernel" "$d/err"; then
      echo "skipped: $1 in effdl's runtime: $(tail -1 "$d/err")"
    else
      echo "FAILED: $1: effdl run: $(tail -1 "$d/err")"
      fail=1
    fi
    return
  fi
  node "$harness" run "$2" --input-dir "$d" --output-dir "$d/o" >/dev/null 2>&1 || { echo "FAILED: $1: ORT run"; fail=1; return; }
  if $py -c "
import glob, sys, numpy as np
e = np.load(glob.glob('$d/e/*.npy')[0]).astype(np.float64); o = np.load(glob.glob('$d/o/*.npy')[0]).astype(np.float64)
cos = (e * o).sum() / np.linalg.norm(e) / np.linalg.norm(o)
same = (e.argmax(1) == o.argmax(1)).mean()
print('$1: effdl vs ORT cosine %.6f, same class %.4f' % (cos, same))
sys.exit(0 if cos >= 0.9999 and same >= 0.99 else 1)"; then
    echo "ok: $1 agrees in effdl's runtime and ORT"
  else
    echo "FAILED: $1: effdl's runtime and ORT disagree"
    fail=1
  fi
}

m=$src/models
digits=("$m/digits_test_x.npy" "$m/digits_test_y.npy" input)
flat=("$m/digits_test_x_flat.npy" "$m/digits_test_y.npy" input)
text=("$m/text_test_ids.npy" "$m/text_test_y.npy" ids)

for method in percentile minmax entropy; do
  quantize "$m/digits_cnn.onnx" "$tmp/digits_$method.onnx" --quantize static --calib "$tmp/calib/digits" \
    --quantize-calib-method $method && check "digits_cnn static u8 $method" "$m/digits_cnn.onnx" "$tmp/digits_$method.onnx" "${digits[@]}" 0.5
done
quantize "$m/digits_cnn.onnx" "$tmp/digits_s8.onnx" --quantize static --calib "$tmp/calib/digits" \
  --quantize-activation-type s8 && check "digits_cnn static s8" "$m/digits_cnn.onnx" "$tmp/digits_s8.onnx" "${digits[@]}" 1.0
quantize "$m/digits_cnn.onnx" "$tmp/digits_wo.onnx" --quantize weight-only &&
  check "digits_cnn weight-only" "$m/digits_cnn.onnx" "$tmp/digits_wo.onnx" "${digits[@]}" 0.5
quantize "$m/mlp.onnx" "$tmp/mlp_static.onnx" --quantize static --calib "$tmp/calib/digits_flat" &&
  check "mlp static" "$m/mlp.onnx" "$tmp/mlp_static.onnx" "${flat[@]}" 1.0
quantize "$m/mlp.onnx" "$tmp/mlp_dyn.onnx" --quantize dynamic &&
  check "mlp dynamic" "$m/mlp.onnx" "$tmp/mlp_dyn.onnx" "${flat[@]}" 1.0
quantize "$m/mlp.onnx" "$tmp/mlp_block.onnx" --quantize weight-only --quantize-block-size 16 &&
  check "mlp weight-only block 16" "$m/mlp.onnx" "$tmp/mlp_block.onnx" "${flat[@]}" 1.0
quantize "$m/text_classifier.onnx" "$tmp/text_dyn.onnx" --quantize dynamic &&
  check "text_classifier dynamic" "$m/text_classifier.onnx" "$tmp/text_dyn.onnx" "${text[@]}" 0.5
quantize "$m/text_classifier.onnx" "$tmp/text_static.onnx" --quantize static --calib "$tmp/calib/text" &&
  check "text_classifier static" "$m/text_classifier.onnx" "$tmp/text_static.onnx" "${text[@]}" 1.0
quantize "$m/text_classifier.onnx" "$tmp/text_wo.onnx" --quantize weight-only &&
  check "text_classifier weight-only" "$m/text_classifier.onnx" "$tmp/text_wo.onnx" "${text[@]}" 0.5
quantize "$m/digits_cnn.onnx" "$tmp/digits_fp16.onnx" --quantize fp16 &&
  check "digits_cnn fp16" "$m/digits_cnn.onnx" "$tmp/digits_fp16.onnx" "${digits[@]}" 0.5
quantize "$m/text_classifier.onnx" "$tmp/text_fp16.onnx" --quantize fp16 &&
  check "text_classifier fp16" "$m/text_classifier.onnx" "$tmp/text_fp16.onnx" "${text[@]}" 0.5

agree "digits_cnn static" "$tmp/digits_percentile.onnx" "$m/digits_test_x.npy" input
agree "text_classifier dynamic" "$tmp/text_dyn.onnx" "$m/text_test_ids.npy" ids
agree "mlp weight-only block 16" "$tmp/mlp_block.onnx" "$m/digits_test_x_flat.npy" input

# Determinism: the same flags give the same bytes.
quantize "$m/digits_cnn.onnx" "$tmp/digits_again.onnx" --quantize static --calib "$tmp/calib/digits" \
  --quantize-calib-method percentile
if cmp -s "$tmp/digits_percentile.onnx" "$tmp/digits_again.onnx"; then
  echo "ok: static quantization is deterministic"
else
  echo "FAILED: two static runs with the same flags wrote different files"
  fail=1
fi
exit $fail
