// OpenMP's wait policy for the effdl process (see omp_wait_policy.cpp for why passive).
#pragma once

namespace effdl::cli {

// Call first in main(): when the user set neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT, sets
// OMP_WAIT_POLICY=passive and re-executes the program so that libgomp sees it. Returns only when
// nothing had to be done or the exec failed.
void ensurePassiveOmpWaitPolicy(char** argv);

}  // namespace effdl::cli
