#!/usr/bin/env bash
# effdl bench of one model at 2 threads under each OpenMP wait policy, alternating, so that the
# machine's load is shared alike: "default" is what effdl sets when OMP_WAIT_POLICY is unset
# (a 10k spin count, tools/effdl/omp_wait_policy.cpp); "passive" sleeps at once; "spin 300k" is
# libgomp's own default spin count; "active" spins without limit. Prints p50 per round.
# usage: scripts/bench_omp_wait_policy.sh [MODEL] [EFFDL]  (defaults: /tmp/effdl-zoo/resnet18.onnx, build/effdl)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${1:-/tmp/effdl-zoo/resnet18.onnx}
effdl=${2:-$src/build/effdl}
p50() { /usr/bin/python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["latency_ms"]["p50"])'; }
echo "$(basename "$model"), 2 threads, p50 ms per round (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-6s %10s %10s %10s %10s\n' round default passive "spin 300k" active
for round in 1 2 3; do
  d=$(env -u OMP_WAIT_POLICY "$effdl" bench "$model" --threads 2 --iters 30 --json | p50)
  p=$(OMP_WAIT_POLICY=passive "$effdl" bench "$model" --threads 2 --iters 30 --json | p50)
  s=$(env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=300000 "$effdl" bench "$model" --threads 2 --iters 30 --json | p50)
  a=$(OMP_WAIT_POLICY=active "$effdl" bench "$model" --threads 2 --iters 30 --json | p50)
  printf '%-6s %10s %10s %10s %10s\n' "$round" "$d" "$p" "$s" "$a"
done
