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

# The library, its tests and the binary again under AddressSanitizer + UndefinedBehaviorSanitizer
# (clang), in a separate tree so the Release build stays fast.
# (-Werror is enforced by the Release tree; clang's extra warnings are reported here, not fatal.)
CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEFFDL_SANITIZE=ON \
  -DEFFDL_WERROR=OFF >/dev/null
cmake --build build-asan
stage "sanitizer build"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j"$(nproc)" >build-asan/ctest.log 2>&1 || {
  cat build-asan/ctest.log
  echo "test.sh: tests failed under ASan + UBSan" >&2
  exit 1
}
echo "test.sh: sanitizer tests: $(grep 'tests passed' build-asan/ctest.log)" >&2
stage "sanitizer tests"

echo "test.sh: running ctest (Release)" >&2
ctest --test-dir build --output-on-failure -j"$(nproc)"
