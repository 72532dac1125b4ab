#!/usr/bin/env bash
# effdl's runtime against ONNX Runtime on the zoo (scripts/make_zoo.py, made here when missing)
# and the bundled models: same seeded inputs (effdl run --random --save-inputs, fed to ORT), one
# table row per model with the worst output's max abs error; every output must be within
# 1e-4 x max(1, max |output|). The interop.ort_agreement ctest runs the same check.
# usage: scripts/check_ort_agreement.sh [--zoo DIR] [--effdl PATH] [--seed N]
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
zoo=/tmp/effdl-zoo
effdl=${EFFDL:-$src/build/effdl}
seed=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --zoo) zoo=$2; shift 2 ;;
    --effdl) effdl=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [--zoo DIR] [--effdl PATH] [--seed N]" >&2; exit 2 ;;
  esac
done
missing=0
for m in resnet18 mobilenet_v2 bert_like mlp_4x4096; do [[ -f "$zoo/$m.onnx" ]] || missing=1; done
if ((missing)); then
  echo "making the zoo in $zoo (scripts/make_zoo.py)"
  /usr/bin/python3 "$src/scripts/make_zoo.py" "$zoo"
fi
exec /usr/bin/python3 "$src/tests/interop/ort_agreement.py" "$effdl" "$src" --require-zoo --zoo "$zoo" --seed "$seed" \
  "$src"/models/*.onnx
