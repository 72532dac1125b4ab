// The one int8 capability probe (runtime/cpu_int8.h): what the quantize pass and the report say
// agrees with what the int8 kernels decide.
#include "runtime/cpu_int8.h"

#include <gtest/gtest.h>

namespace effdl::runtime {
namespace {

TEST(CpuInt8, DescribeNamesTheBestInstructionSet) {
  Int8Support s;
  EXPECT_EQ(s.describe(), "no AVX2");
  s.avx2 = true;
  EXPECT_EQ(s.describe(), "AVX2 without VNNI");
  EXPECT_FALSE(s.vnni());
  s.avxvnni = true;
  EXPECT_EQ(s.describe(), "AVX-VNNI");
  EXPECT_TRUE(s.vnni());
  s.avx512bw = s.avx512vnni = true;
  EXPECT_EQ(s.describe(), "AVX512-VNNI");
}

TEST(CpuInt8, ProbeIsConsistentAndDrivesTheKernelsChoice) {
  const Int8Support& s = int8Support();
  EXPECT_EQ(&s, &int8Support());  // probed once
  EXPECT_EQ(cpuHasInt8DotProduct(), s.vnni());
  // oneDNN's ISAs nest: each VNNI flavour implies AVX2, AVX512-VNNI implies AVX512BW.
  EXPECT_TRUE(!s.vnni() || s.avx2);
  EXPECT_TRUE(!s.avx512vnni || s.avx512bw);
}

}  // namespace
}  // namespace effdl::runtime
