#!/usr/bin/env bash
# The main job on a bundled model: set up if needed, then optimize the digits CNN and print the
# before/after report. The optimized model is written to build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x build/effdl ]]; then
  scripts/setup.sh
fi
mkdir -p build/demo
build/effdl inspect models/digits_cnn.onnx
echo
build/effdl optimize models/digits_cnn.onnx -o build/demo/digits_cnn.opt.onnx --force
