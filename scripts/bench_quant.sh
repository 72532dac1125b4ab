#!/usr/bin/env bash
# Prints issue 4's quantization table (see scripts/bench_quant.py). Usage: scripts/bench_quant.sh [--iters N]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 scripts/bench_quant.py "$@"
