// effdl's OpenMP wait policy: a short spin unless the user chose one (tools/effdl/omp_wait_policy.cpp).
// libgomp's OMP_DISPLAY_ENV=verbose prints the spin count it uses; with the default policy it
// prints once for the first exec (300000) and once for the re-executed process (10000).
#include <gtest/gtest.h>

#include "test_util.h"

namespace effdl::test {
namespace {

std::string lastSpinCount(const std::string& env) {
  auto r = runCommand(env + " OMP_DISPLAY_ENV=verbose '" + std::string(EFFDL_BINARY) + "' --version");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  auto pos = r.err.rfind("GOMP_SPINCOUNT = '");
  if (pos == std::string::npos) return "(not printed)";
  pos += 18;
  return r.err.substr(pos, r.err.find('\'', pos) - pos);
}

TEST(CliOmpWaitPolicy, ShortSpinByDefault) {
  EXPECT_EQ(lastSpinCount("env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT"), "10000");
}

TEST(CliOmpWaitPolicy, UserChoiceKept) {
  EXPECT_EQ(lastSpinCount("env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active"), "30000000000");
  EXPECT_EQ(lastSpinCount("env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1234"), "1234");
  EXPECT_EQ(lastSpinCount("env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=passive"), "0");
}

}  // namespace
}  // namespace effdl::test
