// Float conv fusion (runtime/conv_fusion.h): Conv → BatchNormalization → Add → Relu/Clip chains give
// the same outputs fused (one kernel per group, channels-last values between groups) as node by
// node; what must not fuse (a broadcast residual, an intermediate read elsewhere or returned, a
// Clip whose bounds cross) runs node by node. Session::numKernels() shows what was fused.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using runtime::Session;

struct RunResult {
  std::vector<std::vector<float>> outputs;
  size_t kernels = 0;
};

RunResult runOnce(const ir::Model& m, const ir::Tensor& x, bool fuse, int threads = 1) {
  runtime::SessionOptions o;
  o.threads = threads;
  o.fuseConv = fuse;
  Session s(m, o);
  RunResult r;
  for (int rep = 0; rep < 2; ++rep) {  // the second run reuses buffers (in-place residuals)
    auto out = s.run({{"x", &x}});
    r.outputs.clear();
    for (const auto& t : out) {
      auto v = t.values<float>();
      r.outputs.emplace_back(v.begin(), v.end());
    }
  }
  r.kernels = s.numKernels();
  return r;
}

// Fused and node-by-node outputs agree within 1e-5 of the output's scale; returns the kernel counts.
std::pair<size_t, size_t> expectSameOutputs(const std::string& text, const ir::Tensor& x) {
  auto m = parse(text);
  RunResult fused = runOnce(*m, x, true), plain = runOnce(*m, x, false), fused2 = runOnce(*m, x, true, 2);
  EXPECT_EQ(fused.outputs.size(), plain.outputs.size());
  for (size_t o = 0; o < fused.outputs.size() && o < plain.outputs.size(); ++o) {
    const auto& a = fused.outputs[o];
    const auto& b = plain.outputs[o];
    EXPECT_EQ(a.size(), b.size());
    EXPECT_EQ(a, fused2.outputs[o]) << "output " << o << " differs between 1 and 2 threads";
    float scale = 1e-6f;
    for (float v : b) scale = std::max(scale, std::fabs(v));
    size_t bad = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
      if (!(std::fabs(a[i] - b[i]) <= 1e-5f * scale) && bad++ < 5)
        ADD_FAILURE() << "output " << o << " element " << i << ": fused " << a[i] << ", node by node " << b[i];
  }
  return {fused.kernels, plain.kernels};
}

// A conv's weight, bias and a BatchNormalization's parameters as initializers named <p>w, <p>b, <p>s…
std::string convParams(std::mt19937& rng, const std::string& p, int64_t M, int64_t Cg, int64_t k) {
  const int64_t n = M * Cg * k * k;
  const std::string m = std::to_string(M);
  return "float[" + m + "," + std::to_string(Cg) + "," + std::to_string(k) + "," + std::to_string(k) + "] " + p +
         "w = " + floatList(rng, n, -0.5f, 0.5f) + ", float[" + m + "] " + p + "b = " + floatList(rng, M, -0.2f, 0.2f) +
         ", float[" + m + "] " + p + "s = " + floatList(rng, M, 0.5f, 1.5f) + ", float[" + m + "] " + p +
         "t = " + floatList(rng, M, -0.3f, 0.3f) + ", float[" + m + "] " + p + "m = " + floatList(rng, M, -0.2f, 0.2f) +
         ", float[" + m + "] " + p + "v = " + floatList(rng, M, 0.5f, 2.f);
}

// A model of opset 13: `signature` "(inputs) => (outputs)", the initializers `params`, the nodes `body`.
std::string model13(const std::string& signature, const std::string& params, const std::string& body) {
  return "<ir_version: 8, opset_import: [\"\" : 13]>\ng " + signature + "\n<" + params + ">\n{\n" + body + "\n}";
}

TEST(RuntimeConvFusion, InvertedResidualBlocksRunAsOneKernelPerConv) {
  // Two MobileNet-v2 blocks: expand (Conv+BN+Clip), depthwise (Conv+BN+Clip), project (Conv+BN),
  // the second with a residual Add. Values between them stay channels-last; the residual `p1` is
  // read by a conv and by the Add, both groups.
  std::mt19937 rng(7);
  const std::string params = convParams(rng, "a", 16, 8, 1) + ", " + convParams(rng, "d", 16, 1, 3) + ", " +
                             convParams(rng, "p", 8, 16, 1) + ", " + convParams(rng, "e", 16, 8, 1) + ", " +
                             convParams(rng, "f", 16, 1, 3) + ", " + convParams(rng, "q", 8, 16, 1) +
                             ", float lo = {0.0}, float hi = {6.0}";
  const std::string text = model13("(float[1,8,12,12] x) => (float[1,8,12,12] y)", params, R"(
      a0 = Conv(x, aw, ab)
      a1 = BatchNormalization(a0, as, at, am, av)
      a2 = Clip(a1, lo, hi)
      d0 = Conv <group = 16, pads = [1, 1, 1, 1]> (a2, dw, db)
      d1 = BatchNormalization(d0, ds, dt, dm, dv)
      d2 = Clip(d1, lo, hi)
      p0 = Conv(d2, pw, pb)
      p1 = BatchNormalization(p0, ps, pt, pm, pv)
      e0 = Conv(p1, ew, eb)
      e1 = BatchNormalization(e0, es, et, em, ev)
      e2 = Relu(e1)
      f0 = Conv <group = 16, pads = [1, 1, 1, 1]> (e2, fw, fb)
      f1 = BatchNormalization(f0, fs, ft, fm, fv)
      f2 = Clip(f1, lo, hi)
      q0 = Conv(f2, qw, qb)
      q1 = BatchNormalization(q0, qs, qt, qm, qv)
      y = Add(q1, p1))");
  auto [fused, plain] = expectSameOutputs(text, randomInput({1, 8, 12, 12}, 3));
  EXPECT_EQ(plain, 17u);
  EXPECT_EQ(fused, 6u);
}

TEST(RuntimeConvFusion, ResidualFromAGraphInputAndReluAfterTheAdd) {
  // ResNet's basic block: the residual is the graph input (NCHW) while the conv between writes
  // channels-last; Relu after the Add.
  std::mt19937 rng(11);
  const std::string text = model13("(float[2,8,9,9] x) => (float[2,8,9,9] y)",
                                   convParams(rng, "a", 8, 8, 3) + ", " + convParams(rng, "b", 8, 8, 3), R"(
      a0 = Conv <pads = [1, 1, 1, 1]> (x, aw, ab)
      a1 = BatchNormalization(a0, as, at, am, av)
      a2 = Relu(a1)
      b0 = Conv <pads = [1, 1, 1, 1]> (a2, bw, bb)
      b1 = BatchNormalization(b0, bs, bt, bm, bv)
      b2 = Add(x, b1)
      y = Relu(b2))");
  auto [fused, plain] = expectSameOutputs(text, randomInput({2, 8, 9, 9}, 5));
  EXPECT_EQ(plain, 7u);
  EXPECT_EQ(fused, 2u);
}

TEST(RuntimeConvFusion, ValuesReadElsewhereOrReturnedStayOutOfTheGroup) {
  // c1 is also a graph output and r1 is read by a MaxPool: the groups end there, and both stay NCHW.
  std::mt19937 rng(13);
  const std::string text = model13("(float[1,4,10,10] x) => (float[1,8,10,10] c1, float[1,8,5,5] y, float[1,8,10,10] z)",
                                   convParams(rng, "a", 8, 4, 3) + ", " + convParams(rng, "b", 8, 8, 3), R"(
      c1 = Conv <pads = [1, 1, 1, 1]> (x, aw, ab)
      r1 = Relu(c1)
      y = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (r1)
      c2 = Conv <pads = [1, 1, 1, 1]> (r1, bw, bb)
      z = Relu(c2))");
  auto [fused, plain] = expectSameOutputs(text, randomInput({1, 4, 10, 10}, 6));
  EXPECT_EQ(plain, 5u);
  EXPECT_EQ(fused, 4u);  // Conv alone, Relu, MaxPool, Conv+Relu
}

TEST(RuntimeConvFusion, BroadcastAddAndCrossedClipBoundsAreNotFused) {
  std::mt19937 rng(17);
  const std::string text = model13("(float[1,4,8,8] x, float[1,8,1,1] s) => (float[1,8,8,8] y)",
                                   convParams(rng, "a", 8, 4, 3) + ", float lo = {2.0}, float hi = {1.0}", R"(
      c = Conv <pads = [1, 1, 1, 1]> (x, aw, ab)
      d = Add(c, s)
      y = Clip(d, lo, hi))");
  auto m = parse(text);
  const auto x = randomInput({1, 4, 8, 8}, 8), s = randomInput({1, 8, 1, 1}, 9);
  for (bool fuse : {true, false}) {
    runtime::SessionOptions o;
    o.threads = 1;
    o.fuseConv = fuse;
    Session session(*m, o);
    auto out = session.run({{"x", &x}, {"s", &s}});
    EXPECT_EQ(session.numKernels(), 3u);
    for (float v : out[0].values<float>()) EXPECT_EQ(v, 1.f);  // min(max(v, 2), 1) = 1
  }
}

TEST(RuntimeConvFusion, LargeDepthwisePlaneWithClampMatches) {
  // A 3×3 depthwise conv over a 40×40 plane goes to the NCHW depthwise loop (on AVX-512 CPUs), with
  // the clamp applied after it; with stride 2 likewise.
  std::mt19937 rng(19);
  for (int stride : {1, 2}) {
    const int64_t out = stride == 1 ? 40 : 20;
    const std::string o = std::to_string(out), st = std::to_string(stride);
    const std::string text = model13("(float[1,16,40,40] x) => (float[1,16," + o + "," + o + "] y)",
                                     convParams(rng, "d", 16, 1, 3) + ", float lo = {-0.5}, float hi = {0.5}", R"(
        c = Conv <group = 16, pads = [1, 1, 1, 1], strides = [)" + st + ", " + st + R"(]> (x, dw, db)
        n = BatchNormalization(c, ds, dt, dm, dv)
        y = Clip(n, lo, hi))");
    auto [fused, plain] = expectSameOutputs(text, randomInput({1, 16, 40, 40}, 10 + static_cast<unsigned>(stride)));
    EXPECT_EQ(plain, 3u);
    EXPECT_EQ(fused, 1u);
  }
}

}  // namespace
}  // namespace effdl::test
