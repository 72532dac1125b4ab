// Makes OpenMP's idle threads sleep instead of spinning (OMP_WAIT_POLICY=passive) unless the user
// chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT). libgomp reads its environment in a library
// constructor, before main(), and a setenv from the executable's .preinit_array is undone when
// libc initialises `environ` after it; so effdl re-executes itself once with the variable set
// (~6 ms, the cost of one more process start).
// Why passive: libgomp's default spins 300k iterations after each parallel region. Where cores are
// shared (this machine: 2 cores, several processes), spinning workers steal the cores the next
// region needs. resnet18 at 2 threads, p50 ms, three rounds side by side (load average ~12):
// passive 36–38, libgomp's default spin count 711–946, active 818–980
// (scripts/bench_omp_wait_policy.sh). On an idle machine spinning can save microseconds per region.
#include "omp_wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace effdl::cli {

void ensurePassiveOmpWaitPolicy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with libgomp's default, which only costs speed.
}

}  // namespace effdl::cli
