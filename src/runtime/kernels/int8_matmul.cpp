// Integer matrix product on oneDNN's int8 matmul, with a plain C++ path (see int8_matmul.h).
#include "runtime/kernels/int8_matmul.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "runtime/dnnl_context.h"
#include "runtime/kernels/int8_dnnl_attr.h"
#include "runtime/kernels/quant_common.h"

namespace effdl::runtime {

using dnnl::memory;
using Tag = memory::format_tag;

namespace {

memory::data_type dnnlType(ir::DataType t) {
  switch (t) {
    case ir::DataType::kUint8: return memory::data_type::u8;
    case ir::DataType::kInt8: return memory::data_type::s8;
    case ir::DataType::kFloat: return memory::data_type::f32;
    default: return memory::data_type::s32;
  }
}

template <typename A, typename Y>
void referenceTyped(const Int8MatMulParams& p, const A* a, int64_t M, Y* y) {
  const int64_t K = p.K, N = p.N;
  std::vector<int64_t> acc(static_cast<size_t>(N));
  for (int64_t m = 0; m < M; ++m) {
    std::fill(acc.begin(), acc.end(), 0);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t av = static_cast<int64_t>(a[m * K + k]) - p.aZeroPoint;
      if (av == 0) continue;
      const int32_t* brow = p.b.data() + k * N;
      for (int64_t n = 0; n < N; ++n) acc[static_cast<size_t>(n)] += av * brow[n];
    }
    for (int64_t n = 0; n < N; ++n) {
      if constexpr (std::is_same_v<Y, int32_t>)
        y[m * N + n] = static_cast<int32_t>(acc[static_cast<size_t>(n)]);
      else
        y[m * N + n] = p.out.apply<Y>(acc[static_cast<size_t>(n)], static_cast<size_t>(n));
    }
  }
}

template <typename A>
void referenceForA(const Int8MatMulParams& p, const A* a, int64_t M, void* y) {
  switch (p.out.yType) {
    case ir::DataType::kUint8: referenceTyped(p, a, M, static_cast<uint8_t*>(y)); break;
    case ir::DataType::kInt8: referenceTyped(p, a, M, static_cast<int8_t*>(y)); break;
    case ir::DataType::kFloat: referenceTyped(p, a, M, static_cast<float*>(y)); break;
    default: referenceTyped(p, a, M, static_cast<int32_t*>(y)); break;
  }
}

}  // namespace

void referenceInt8MatMul(const Int8MatMulParams& p, const void* a, int64_t M, void* y) {
  if (p.aType == ir::DataType::kUint8) referenceForA(p, static_cast<const uint8_t*>(a), M, y);
  else referenceForA(p, static_cast<const int8_t*>(a), M, y);
}

struct Int8MatMul::Plan {
  int64_t M = 0;
  int threads = 0;
  bool dnnl = false;
  dnnl::primitive prim;
  memory src, dst, weights, bias;
  std::unordered_map<int, memory> args;
};

Int8MatMul::Int8MatMul(Int8MatMulParams params, std::string describe)
    : p_(std::move(params)), describe_(std::move(describe)) {
  const bool vnni = cpuHasInt8DotProduct();
  const int32_t lo = vnni ? -128 : -64, hi = vnni ? 127 : 64;
  dnnlWeightsOk_ = std::all_of(p_.b.begin(), p_.b.end(), [&](int32_t v) { return v >= lo && v <= hi; });
}

Int8MatMul::~Int8MatMul() = default;

void Int8MatMul::prepare(int64_t M) {
  try {
    planFor(M);
  } catch (const dnnl::error& e) {
    throwDnnlError(describe_, e);
  }
}

bool Int8MatMul::usesDnnl(int64_t M) { return planFor(M).dnnl; }

Int8MatMul::Plan& Int8MatMul::planFor(int64_t M) {
  const int threads = dnnlThreads();
  for (auto& p : plans_)
    if (p->M == M && p->threads == threads) return *p;
  auto plan = std::make_unique<Plan>();
  Plan& p = *plan;
  p.M = M;
  p.threads = threads;
  const int64_t K = p_.K, N = p_.N;
  if (dnnlWeightsOk_ && M > 0 && K > 0 && N > 0) {
    const auto& eng = dnnlEngine();
    memory::desc aD({M, K}, dnnlType(p_.aType), Tag::ab), yD({M, N}, dnnlType(p_.out.yType), Tag::ab);
    memory::desc wAny({K, N}, memory::data_type::s8, Tag::any), bD({1, N}, memory::data_type::f32, Tag::ab);
    const bool hasBias = !p_.out.bias.empty();
    dnnl::primitive_attr attr = int8PrimitiveAttr(p_.out, 0x2, p_.aZeroPoint);
    std::optional<dnnl::matmul::primitive_desc> pd;
    try {
      dnnl::matmul::desc d(aD, wAny, hasBias ? bD : memory::desc(), yD);
      pd.emplace(d, attr, eng);
      if (std::string(pd->impl_info_str()).find("ref") != std::string::npos) pd.reset();
    } catch (const dnnl::error&) {
      pd.reset();
    }
    if (pd) {
      p.dnnl = true;
      p.prim = dnnl::matmul(*pd);
      p.src = memory(aD, eng, DNNL_MEMORY_NONE);
      p.dst = memory(yD, eng, DNNL_MEMORY_NONE);
      std::vector<int8_t> w8(p_.b.begin(), p_.b.end());
      memory wSrc(memory::desc({K, N}, memory::data_type::s8, Tag::ab), eng, w8.data());
      p.weights = memory(pd->weights_desc(), eng);
      dnnl::reorder(wSrc, p.weights).execute(dnnlStream(), wSrc, p.weights);
      dnnlStream().wait();
      p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}};
      if (hasBias) {
        p.bias = memory(bD, eng, p_.out.bias.data());
        p.args[DNNL_ARG_BIAS] = p.bias;
      }
    }
  }
  if (plans_.size() >= 16) plans_.erase(plans_.begin());
  plans_.push_back(std::move(plan));
  return *plans_.back();
}

void Int8MatMul::run(const void* a, int64_t M, void* y) {
  if (M == 0 || p_.N == 0) return;
  try {
    Plan& p = planFor(M);
    if (!p.dnnl) {
      referenceInt8MatMul(p_, a, M, y);
      return;
    }
    p.src.set_data_handle(const_cast<void*>(a));
    p.dst.set_data_handle(y);
    p.prim.execute(dnnlStream(), p.args);
    dnnlStream().wait();
  } catch (const dnnl::error& e) {
    throwDnnlError(describe_, e);
  }
}

}  // namespace effdl::runtime
