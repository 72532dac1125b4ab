#!/usr/bin/env bash
# Pruned models in ONNX Runtime: for the bundled digits CNN and MLP, every sparse encoding (coo,
# bitmask, auto) must load in ORT and give bit-identical outputs to the dense pruned model, N:M
# models must load, and ORT and effdl's runtime must agree (max abs diff ≤ 1e-4) on every pruned
# model. Exit 77 (ctest: skipped) when ONNX Runtime or numpy is not available.
set -uo pipefail
effdl=$1
src=$2
harness=${EFFDL_ORT_HARNESS:-$src/scripts/ort/ort_run.js}
py=/usr/bin/python3

if ! why=$(node "$harness" check 2>&1); then
  echo "SKIPPED: ONNX Runtime is not available: $why"
  exit 77
fi
if ! $py -c "import numpy" 2>/dev/null; then
  echo "SKIPPED: $py has no numpy"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir -p "$tmp/in_digits" "$tmp/in_mlp"
$py -c "
import numpy as np, sys
np.save('$tmp/in_digits/input.npy', np.load('$src/models/digits_test_x.npy')[:4])
np.save('$tmp/in_mlp/input.npy', np.load('$src/models/digits_test_x_flat.npy')[:4])"

check() {  # what, command...
  local what=$1
  shift
  if ! out=$("$@" 2>&1); then
    echo "FAILED: $what: $out"
    fail=1
    return 1
  fi
}

# ORT and effdl's runtime on the same inputs.
agree() {  # name model inputdir
  local o1="$tmp/$1.ort" o2="$tmp/$1.effdl"
  mkdir -p "$o1" "$o2"
  check "$1: ORT run" node "$harness" run "$2" --input-dir "$3" --output-dir "$o1" || return
  check "$1: effdl run" "$effdl" run "$2" -q -i "input=$3/input.npy" --output-dir "$o2" || return
  check "$1: ORT vs effdl" $py -c "
import numpy as np, glob, os, sys
for f in glob.glob('$o2/*.npy'):
    a, b = np.load(f), np.load(os.path.join('$o1', os.path.basename(f)))
    d = float(np.abs(a.astype(np.float64) - b).max())
    if d > 1e-4: sys.exit('%s: max abs diff %g' % (os.path.basename(f), d))"
}

for model in digits mlp; do
  file=$src/models/$([[ $model == digits ]] && echo digits_cnn || echo mlp).onnx
  in=$tmp/in_$model
  base=$tmp/${model}_p50.onnx
  check "$model: prune" "$effdl" optimize "$file" -o "$base" --prune 0.5 --bench-iters 0 -q || continue
  agree "${model}_p50" "$base" "$in"
  for fmt in coo bitmask auto; do
    enc=$tmp/${model}_p50_$fmt.onnx
    check "$model $fmt: encode" "$effdl" optimize "$file" -o "$enc" --prune 0.5 --sparse-format "$fmt" \
      --sparse-min-size 64 --bench-iters 0 -q || continue
    check "$model $fmt: ORT outputs equal the dense pruned model's" node "$harness" compare "$base" "$enc" --input-dir "$in"
    agree "${model}_p50_$fmt" "$enc" "$in"
  done
  nm=$tmp/${model}_2of4.onnx
  check "$model 2:4: prune" "$effdl" optimize "$file" -o "$nm" --prune 0.5 --prune-mode 2:4 --sparse-format bitmask \
    --sparse-min-size 64 --bench-iters 0 -q && agree "${model}_2of4" "$nm" "$in"
done
((fail)) && exit 1
echo "OK: pruned and encoded models load in ONNX Runtime and agree with effdl's runtime"
