// Activation taps: intermediate values over calibration samples, the model unchanged afterwards.
#include <gtest/gtest.h>

#include "passes/common/activation_tap.h"
#include "test_util.h"

namespace effdl::test {
namespace {

TEST(ActivationTap, HandsOverIntermediatesAndInputsThenRestoresOutputs) {
  auto m = parse(R"(
< ir_version: 8, opset_import: ["" : 17] >
g (float[2] x) => (float[2] y) {
  h = Neg(x)
  y = Relu(h)
}
)");
  const std::string before = print(*m);
  auto samples = eval::SampleSet::open("random:3", 1 << 20, 5);
  size_t calls = 0, progressed = 0;
  passes::TapOptions o;
  o.threads = 1;
  o.progress = [&](size_t done, size_t total) {
    EXPECT_EQ(total, 3u);
    progressed = done;
  };
  passes::forEachActivation(*m, {"h", "x", "y"}, samples, o, [&](size_t i, const std::vector<const ir::Tensor*>& v) {
    EXPECT_EQ(i, calls++);
    ASSERT_EQ(v.size(), 3u);
    auto h = v[0]->values<float>(), x = v[1]->values<float>(), y = v[2]->values<float>();
    for (size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(h[k], -x[k]);
      EXPECT_EQ(y[k], std::max(0.0f, -x[k]));
    }
  });
  EXPECT_EQ(calls, 3u);
  EXPECT_EQ(progressed, 3u);
  EXPECT_EQ(print(*m), before) << "the tapped outputs must be removed again";
  expectError([&] { passes::forEachActivation(*m, {"nope"}, samples, o, [](size_t, const auto&) {}); },
              ErrorKind::kInternal, "no value 'nope'");
  EXPECT_EQ(m->graph->outputs().size(), 1u);
}

}  // namespace
}  // namespace effdl::test
