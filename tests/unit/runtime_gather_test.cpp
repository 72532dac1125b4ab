// Gather reads int32 and int64 indices in their own type, with a copy loop per row size (one
// element of 1/2/4/8 bytes, rows of 16/32 bytes, any other size): each gives numpy's take(),
// negative indices count from the end, and an index out of range is an error naming it.
#include <gtest/gtest.h>

#include "core/error.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// take(data [rows, cols], idx, axis=0) for data[r][c] = r * 100 + c, through a Session.
void checkTake(int64_t rows, int64_t cols, const std::vector<int64_t>& idx, const char* indexType) {
  const std::string text = R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[R,C] x, )" + std::string(indexType) + R"([N] i) => (float[N,C] y) { y = Gather(x, i) })";
  auto m = parse(text);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) x[static_cast<size_t>(r * cols + c)] = static_cast<float>(r * 100 + c);
  auto xt = ir::Tensor::fromVector(ir::DataType::kFloat, {rows, cols}, x);
  const int64_t n = static_cast<int64_t>(idx.size());
  ir::Tensor it = std::string(indexType) == "int64"
                      ? ir::Tensor::fromVector(ir::DataType::kInt64, {n}, idx)
                      : ir::Tensor::fromVector(ir::DataType::kInt32, {n}, std::vector<int32_t>(idx.begin(), idx.end()));
  runtime::Session s(*m, {1});
  auto out = s.run({{"x", &xt}, {"i", &it}});
  ASSERT_EQ(out[0].dims(), (std::vector<int64_t>{n, cols}));
  auto y = out[0].values<float>();
  for (int64_t k = 0; k < n; ++k) {
    const int64_t r = idx[static_cast<size_t>(k)] < 0 ? idx[static_cast<size_t>(k)] + rows : idx[static_cast<size_t>(k)];
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(y[static_cast<size_t>(k * cols + c)], static_cast<float>(r * 100 + c))
          << indexType << " cols " << cols << " k " << k;
  }
}

TEST(RuntimeGather, EveryRowSizeAndIndexType) {
  const std::vector<int64_t> idx = {0, 4, -1, 2, 2, -5, 3};
  for (const char* type : {"int32", "int64"})
    for (int64_t cols : {1, 2, 3, 4, 8, 9})  // 4 to 36 bytes: 4/8/16/32-byte paths and the general one
      checkTake(5, cols, idx, type);
}

TEST(RuntimeGather, Int32IndexOutOfRangeIsNamed) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[3,8] x, int32[N] i) => (float[N,8] y) { y = Gather(x, i) })");
  auto x = ir::Tensor::fromVector(ir::DataType::kFloat, {3, 8}, std::vector<float>(24, 1.0f));
  for (int32_t bad : {3, -4}) {
    auto i = ir::Tensor::fromVector(ir::DataType::kInt32, {2}, std::vector<int32_t>{0, bad});
    runtime::Session s(*m, {1});
    expectError([&] { s.run({{"x", &x}, {"i", &i}}); }, ErrorKind::kInvalidModel,
                "index " + std::to_string(bad) + " is out of range for a dim of size 3");
  }
}

}  // namespace
}  // namespace effdl::test
