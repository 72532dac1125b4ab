#!/usr/bin/env bash
# Runs one libFuzzer target (tests/fuzz) for SECONDS under ASan + UBSan, at the lowest CPU
# priority (EFFDL_FUZZ_NICE overrides 19), and prints CPU time, executions, coverage and crashes.
#   scripts/fuzz.sh model|text|tensor_files SECONDS
# The build tree ($EFFDL_FUZZ_BUILD, default build-fuzz) is configured and built when missing.
# Seeds are generated once into $EFFDL_FUZZ_WORK/TARGET/seeds (default /tmp/effdl-fuzz) from
# libonnx-testdata and the bundled models; the corpus grows in .../corpus across runs; a crash
# input lands in .../crashes: copy it to tests/fuzz/regressions/TARGET/ once it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh model|text|tensor_files SECONDS" >&2
  exit 1
fi
target=$1 seconds=$2
case $target in
  model) max_len=65536 ;;
  text) max_len=16384 ;;
  tensor_files) max_len=65536 ;;
  *) echo "fuzz.sh: unknown target '$target' (model, text, tensor_files)" >&2; exit 1 ;;
esac

build=${EFFDL_FUZZ_BUILD:-build-fuzz}
testdata=/usr/share/libonnx-testdata/data
bin=$build/tests/fuzz/fuzz_$target
if [[ ! -x $bin || ! -x $build/tests/fuzz/fuzz_seed_text ]]; then
  CXX=clang++ CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEFFDL_SANITIZE=ON \
    -DEFFDL_FUZZ=ON -DEFFDL_WERROR=OFF >/dev/null
  nice cmake --build "$build" --target "fuzz_$target" fuzz_seed_text -- -j1
fi

work=${EFFDL_FUZZ_WORK:-/tmp/effdl-fuzz}/$target
mkdir -p "$work/seeds" "$work/corpus" "$work/crashes"

# Small models only: libFuzzer mutates whole inputs, and a 40 MB seed would be most of the time.
small_models() {
  find "$testdata" models -name '*.onnx' -size -64k 2>/dev/null | sort
}

if [[ -z $(ls -A "$work/seeds") ]]; then
  case $target in
    model)
      n=0
      while read -r f; do cp "$f" "$work/seeds/$((n++)).onnx"; done < <(small_models)
      ;;
    text)
      small_models | xargs "$build/tests/fuzz/fuzz_seed_text" "$work/seeds" >/dev/null
      ;;
    tensor_files)
      # The first byte picks the reader (fuzz_tensor_files.cpp): 0 .npy, 1 .npz, 2 .pb, 3 recipe, 4 spec.
      n=0
      while read -r f; do
        { printf '\x02'; cat "$f"; } >"$work/seeds/pb$((n++))"
      done < <(find "$testdata/node" -name '*.pb' -size -16k | sort | awk 'NR % 8 == 1')
      /usr/bin/python3 - "$work/seeds" <<'EOF'
import io, sys, numpy as np
out = sys.argv[1]
arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([True, False]), np.zeros((0, 3), np.int64),
          np.array(3.5, dtype='>f8'), np.arange(4, dtype=np.uint8), np.ones((2, 2), np.float16, order='F'),
          np.array([1 + 2j], np.complex64)]
for i, a in enumerate(arrays):
    b = io.BytesIO(); np.save(b, a)
    open(f"{out}/npy{i}", "wb").write(b"\x00" + b.getvalue())
for i, comp in enumerate([np.savez, np.savez_compressed]):
    b = io.BytesIO(); comp(b, x=arrays[0], y=arrays[1])
    open(f"{out}/npz{i}", "wb").write(b"\x01" + b.getvalue())
recipes = ['{"schema_version": 1, "passes": [{"name": "cleanup"}]}',
           '{"schema_version": 1, "passes": [{"name": "fold-constants", "options": {"max-bytes": 4096}}]}']
for i, r in enumerate(recipes):
    open(f"{out}/recipe{i}", "wb").write(b"\x03" + r.encode())
for i, s in enumerate(["cleanup,fold-batchnorm,cleanup", "fold-constants{max-bytes=100}"]):
    open(f"{out}/spec{i}", "wb").write(b"\x04" + s.encode())
EOF
      ;;
  esac
fi
echo "fuzz.sh: $target for ${seconds}s; seeds: $(ls "$work/seeds" | wc -l), corpus: $(ls "$work/corpus" | wc -l)" >&2

log=$work/last.log
set +e
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 nice -n "${EFFDL_FUZZ_NICE:-19}" \
  /usr/bin/time -f '%U %S %e' -o "$work/cpu.txt" "$bin" -max_total_time="$seconds" \
  -dict="tests/fuzz/$target.dict" -max_len=$max_len -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/crashes/" "$work/corpus" "$work/seeds" >"$log" 2>&1
rc=$?
set -e

execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
crashes=$(ls "$work/crashes" | wc -l)
# CPU seconds (user + system) the fuzzer got: on a busy machine less than the wall time.
cpu=$(awk 'END { printf "%.0f", $1 + $2 }' "$work/cpu.txt" 2>/dev/null || echo "?")
wall=$(awk 'END { printf "%.0f", $3 }' "$work/cpu.txt" 2>/dev/null || echo "?")
if [[ $rc -ne 0 ]]; then
  grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz_[a-z_]+: )' "$log" | head -5
  grep -E 'Test unit written to' "$log" | tail -1
fi
echo "fuzz.sh: target $target: ${wall}s wall (of ${seconds}s asked), ${cpu}s CPU, executions ${execs:-0}, coverage ${cov:-none}, crash files in $work/crashes: $crashes, libFuzzer exit $rc"
exit $rc
