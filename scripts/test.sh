#!/usr/bin/env bash
# Sets up (if needed), builds and runs the whole test suite with ctest. Prints each stage's time;
# ctest's summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."

stage_start=$SECONDS
stage() { echo "test.sh: $1 took $((SECONDS - stage_start)) s" >&2; stage_start=$SECONDS; }

scripts/setup.sh --no-build
stage "setup"

werror=OFF
[[ -n "${CI:-}" ]] && werror=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEFFDL_WERROR=$werror >/dev/null
cmake --build build
stage "release build"

echo "test.sh: running ctest" >&2
ctest --test-dir build --output-on-failure -j"$(nproc)"
