#!/usr/bin/env bash
# Round trip: every model under libonnx-testdata's pytorch-converted, pytorch-operator and simple
# folders, and the bundled models, is loaded and saved by effdl with no passes (effdl convert);
# ONNX Runtime must give bit-identical outputs for the original and the saved model. A case ORT
# cannot load is reported skipped with ORT's message, never passed. Exit 77 (ctest: skipped)
# when ONNX Runtime is not available.
set -uo pipefail
effdl=$1
src=$2
data=${EFFDL_TESTDATA:-/usr/share/libonnx-testdata/data}
harness="$src/scripts/ort/ort_run.js"

if ! why=$(node "$harness" check 2>&1); then
  echo "SKIPPED: ONNX Runtime is not available: $why"
  exit 77
fi
if [[ ! -d "$data" ]]; then
  echo "FAILED: libonnx-testdata not found at $data (scripts/setup.sh installs it)"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jobs="$tmp/jobs.json"
convert_failures=0
echo "[" >"$jobs"
first=1
add_job() {  # name a b input_dir|"" seed|""
  local input=null seed=null
  [[ -n "$4" ]] && input="\"$4\""
  [[ -n "$5" ]] && seed="$5"
  ((first)) || echo "," >>"$jobs"
  first=0
  printf '{"name": "%s", "a": "%s", "b": "%s", "input_dir": %s, "random_seed": %s}' "$1" "$2" "$3" "$input" "$seed" >>"$jobs"
}

for suite in pytorch-converted pytorch-operator simple; do
  for case in "$data/$suite"/*/; do
    name="$suite/$(basename "$case")"
    out="$tmp/$suite-$(basename "$case").onnx"
    if ! err=$("$effdl" convert "$case/model.onnx" -o "$out" 2>&1); then
      echo "FAILED to convert $name: $err"
      convert_failures=$((convert_failures + 1))
      continue
    fi
    add_job "$name" "$case/model.onnx" "$out" "$case/test_data_set_0" ""
  done
done
for model in "$src"/models/*.onnx; do
  out="$tmp/bundled-$(basename "$model")"
  if ! err=$("$effdl" convert "$model" -o "$out" 2>&1); then
    echo "FAILED to convert $model: $err"
    convert_failures=$((convert_failures + 1))
    continue
  fi
  add_job "bundled/$(basename "$model")" "$model" "$out" "" 1
done
echo "]" >>"$jobs"

node "$harness" batch "$jobs" >"$tmp/results.txt"
batch_status=$?
identical=$(grep -c '"status":"identical"' "$tmp/results.txt")
skipped=$(grep -c '"status":"skipped"' "$tmp/results.txt")
bad=$(grep -E '"status":"(different|failed_b|error)"' "$tmp/results.txt")
echo "round trip: $identical bit-identical in ONNX Runtime, $skipped skipped (ORT cannot load the original), $convert_failures effdl failures"
grep '"status":"skipped"' "$tmp/results.txt" | sed -E 's/.*"name":"([^"]*)".*"message":"([^"]{0,140}).*/  skipped \1: \2/'
if [[ -n "$bad" ]]; then
  echo "FAILED cases:"
  echo "$bad"
fi
[[ $convert_failures -eq 0 && -z "$bad" && $batch_status -eq 0 ]]
