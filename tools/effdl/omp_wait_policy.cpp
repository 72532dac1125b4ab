// Makes OpenMP's idle threads spin only briefly (GOMP_SPINCOUNT=10000) after a parallel region,
// then sleep, unless the user chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT). libgomp reads its
// environment in a library constructor, before main(), and a setenv from the executable's
// .preinit_array is undone when libc initialises `environ` after it; so effdl re-executes itself
// once with the variable set (~6 ms, the cost of one more process start).
// Why a short spin: libgomp's default spins 300k iterations; where cores are shared, spinning
// workers steal the cores the next region needs (resnet18 at 2 threads, load average ~12: passive
// 36–38 ms, 300k spins 711–946, active 818–980). Sleeping at once (passive) costs a wake-up per
// region instead: mobilenet_v2 runs ~100 short kernels, 2 threads, p50 side by side on a lightly
// loaded machine: passive 6.6–7.9 ms, 10k spins 4.3–4.5, ONNX Runtime (which spins briefly too)
// 4.2. Under 6 busy processes 10k spins stayed within the noise of passive (resnet18 78–121 vs
// 86–119 ms; mobilenet_v2 17–94 vs 24–40), while 30k already doubled resnet18's p50 there.
// (scripts/bench_omp_wait_policy.sh compares the policies.)
#include "omp_wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace effdl::cli {

void ensureShortOmpSpin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", "10000", 0) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with libgomp's default, which only costs speed.
}

}  // namespace effdl::cli
