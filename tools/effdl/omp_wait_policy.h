// OpenMP's wait policy for the effdl process (see omp_wait_policy.cpp for the spin count chosen).
#pragma once

namespace effdl::cli {

// Call first in main(): when the user set neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT, sets
// GOMP_SPINCOUNT to a short spin and re-executes the program so that libgomp sees it. Returns
// only when nothing had to be done or the exec failed.
void ensureShortOmpSpin(char** argv);

}  // namespace effdl::cli
