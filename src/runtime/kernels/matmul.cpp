// MatMul (numpy batching and broadcasting, 1-D operands) and Gemm (transA/transB, alpha, beta,
// C broadcast, opset < 7's `broadcast` flag), fp32 on oneDNN.
// A constant 2-D weight (the Linear layer: Gemm, or MatMul after flattening A's batch dims into
// rows) is multiplied by whichever of two paths is faster for the row count, chosen per shape:
//   * dnnl_sgemm on the model's own weight bytes, for 1–3 rows over weights that do not fit in
//     cache: memory-bound, and sgemm streams them best. 4×4096² MLP, 1 thread, CPU ms per run:
//     batch 1: sgemm 12.4, oneDNN matmul with reordered weights 16.5–17.3 (plain-layout matmul
//     24–32 in ../shared/NOTES.md); batch 2: 12.0 vs 18.3; batch 3: 12.5 vs 13.1–14.7;
//   * otherwise oneDNN matmul with the weights reordered once into the layout it asks for
//     (format_tag::any) and the bias fused: batch 4: 15.3 vs sgemm's 25; 4×1024² (4 MiB, in
//     cache) at batch 1: 0.33 vs 0.42.
// MatMul of two activations uses a oneDNN matmul per shape (it broadcasts batch dims itself).
// Other dtypes (float64, integers) take a plain C++ path.
#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "runtime/dnnl_context.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/float16_via_float.h"

namespace effdl::runtime {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

bool isConstFloat(const ir::Tensor* t) { return t && t->dtype() == ir::DataType::kFloat; }

// Refuses bfloat16 and non-numeric types at build time when the model declares them (float16
// reaches this kernel widened to float32: float16_via_float.h).
void checkDtypes(const KernelBuildContext& ctx, size_t count) {
  for (size_t i = 0; i < std::min(count, ctx.numInputs()); ++i) {
    const ir::Value* v = ctx.input(i);
    if (!v) continue;
    ir::DataType t = v->type().elemType;
    switch (t) {
      case ir::DataType::kUndefined:
      case ir::DataType::kFloat:
      case ir::DataType::kDouble:
      case ir::DataType::kInt32:
      case ir::DataType::kInt64:
      case ir::DataType::kUint32:
      case ir::DataType::kUint64: break;
      default:
        ctx.unsupported(std::string(ir::dtypeName(t)) +
                        " inputs (effdl's runtime computes this op in float32, float64 and 32/64-bit integers)");
    }
  }
}

// ------------------------------------------------------------------ constant-weight float GEMM
// y[M,N] = alpha · op(a)[M,K] · op(B)[K,N] + bias[N] (+ y, when `accumulate`: y was prefilled).
class ConstWeightGemm {
 public:
  ConstWeightGemm(ir::Tensor b, bool transA, bool transB, float alpha, std::vector<float> bias, bool accumulate)
      : b_(std::move(b)), transA_(transA), transB_(transB), alpha_(alpha), bias_(std::move(bias)), accumulate_(accumulate) {
    K_ = transB ? b_.dims()[1] : b_.dims()[0];
    N_ = transB ? b_.dims()[0] : b_.dims()[1];
  }
  int64_t K() const { return K_; }
  int64_t N() const { return N_; }

  // Makes (and caches) the plan for M rows at the current thread count: at session build this
  // reorders the weights.
  void prepare(int64_t M) { planFor(M); }

  void run(const float* a, int64_t M, float* y) {
    if (M == 0 || N_ == 0) return;
    if (K_ == 0) {  // an empty sum: only the bias (or what y holds)
      for (int64_t m = 0; m < M && !accumulate_; ++m)
        for (int64_t n = 0; n < N_; ++n) y[m * N_ + n] = bias_.empty() ? 0.f : bias_[static_cast<size_t>(n)];
      return;
    }
    Plan& p = planFor(M);
    if (p.sgemm) {
      if (!bias_.empty())
        for (int64_t m = 0; m < M; ++m) std::memcpy(y + m * N_, bias_.data(), static_cast<size_t>(N_) * sizeof(float));
      const float beta = accumulate_ || !bias_.empty() ? 1.f : 0.f;
      dnnl_status_t st = dnnl_sgemm(transA_ ? 'T' : 'N', transB_ ? 'T' : 'N', M, N_, K_, alpha_, a, transA_ ? M : K_,
                                    reinterpret_cast<const float*>(b_.data()), transB_ ? K_ : N_, beta, y, N_);
      if (st != dnnl_success) throw dnnl::error(st, "dnnl_sgemm");
      return;
    }
    p.src.set_data_handle(const_cast<float*>(a));
    p.dst.set_data_handle(y);
    p.prim.execute(dnnlStream(), p.args);
    dnnlStream().wait();
  }

 private:
  struct Plan {
    int64_t M = 0;
    int threads = 0;
    bool sgemm = false;
    dnnl::primitive prim;
    memory src, dst;
    std::unordered_map<int, memory> args;
  };

  // The path for M rows (measurements at the top of the file): sgemm for up to 3 rows over
  // weights of 8 MiB or more, and for transA (rare; it keeps no reordered copy).
  bool preferSgemm(int64_t M) const { return transA_ || K_ == 0 || (M <= 3 && K_ * N_ >= (int64_t{1} << 21)); }

  Plan& planFor(int64_t M) {
    const int threads = dnnlThreads();
    for (Plan& p : plans_)
      if (p.M == M && p.threads == threads) return p;
    Plan p;
    p.M = M;
    p.threads = threads;
    p.sgemm = preferSgemm(M);
    if (!p.sgemm) {
      const auto& eng = dnnlEngine();
      memory::desc aD({M, K_}, memory::data_type::f32, Tag::ab), yD({M, N_}, memory::data_type::f32, Tag::ab);
      memory::desc wAny({K_, N_}, memory::data_type::f32, Tag::any), biasD({1, N_}, memory::data_type::f32, Tag::ab);
      dnnl::primitive_attr attr;
      if (accumulate_) {
        dnnl::post_ops ops;
        ops.append_sum(1.f);
        attr.set_post_ops(ops);
      }
      dnnl::matmul::desc d(aD, wAny, bias_.empty() ? memory::desc() : biasD, yD);
      dnnl::matmul::primitive_desc pd(d, attr, eng);
      p.prim = dnnl::matmul(pd);
      p.src = memory(aD, eng, DNNL_MEMORY_NONE);
      p.dst = memory(yD, eng, DNNL_MEMORY_NONE);
      p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, weightsFor(pd.weights_desc())}, {DNNL_ARG_DST, p.dst}};
      if (!bias_.empty()) p.args[DNNL_ARG_BIAS] = memory(biasD, eng, bias_.data());
    }
    if (plans_.size() >= 16) plans_.erase(plans_.begin());  // a batch size that keeps changing
    plans_.push_back(std::move(p));
    return plans_.back();
  }

  // The weights (alpha folded in) in layout `want`, reordered once per layout.
  memory weightsFor(const memory::desc& want) {
    for (auto& [desc, mem] : weights_)
      if (desc == want) return mem;
    const auto& eng = dnnlEngine();
    const float* data = reinterpret_cast<const float*>(b_.data());
    std::vector<float> scaled;
    if (alpha_ != 1.f) {
      scaled.assign(data, data + K_ * N_);
      for (float& v : scaled) v *= alpha_;
      data = scaled.data();
    }
    memory src(memory::desc({K_, N_}, memory::data_type::f32, transB_ ? Tag::ba : Tag::ab), eng,
               const_cast<float*>(data));
    memory dst(want, eng);
    dnnl::reorder(src, dst).execute(dnnlStream(), src, dst);
    dnnlStream().wait();
    weights_.emplace_back(want, dst);
    return dst;
  }

  ir::Tensor b_;  // a view sharing the model's bytes (keeps them alive)
  bool transA_, transB_;
  float alpha_;
  std::vector<float> bias_;  // beta·C expanded to N values, or empty
  bool accumulate_;
  int64_t K_ = 0, N_ = 0;
  std::vector<Plan> plans_;
  std::vector<std::pair<memory::desc, memory>> weights_;
};

// --------------------------------------------------------------------------- plain C++ paths
// y[b] = a[b] · b[b] over broadcast batches; aStride/bStride: per batch dim, the element stride
// of that operand's matrix (0 when broadcast).
template <typename T>
void referenceMatMul(const T* a, const T* b, T* y, const Shape& batch, const std::vector<int64_t>& aStride,
                     const std::vector<int64_t>& bStride, int64_t M, int64_t K, int64_t N) {
  const int64_t batches = numel(batch);
  std::vector<int64_t> idx(batch.size(), 0);
  for (int64_t t = 0; t < batches; ++t) {
    int64_t ao = 0, bo = 0;
    for (size_t d = 0; d < batch.size(); ++d) ao += idx[d] * aStride[d], bo += idx[d] * bStride[d];
    T* yp = y + t * M * N;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        T acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += a[ao + m * K + k] * b[bo + k * N + n];
        yp[m * N + n] = acc;
      }
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < batch[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
}

template <typename T>
void referenceGemm(const T* a, const T* b, T* y, int64_t M, int64_t K, int64_t N, bool transA, bool transB, T alpha,
                   bool accumulate) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      T acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += a[transA ? k * M + m : m * K + k] * b[transB ? n * K + k : k * N + n];
      y[m * N + n] = static_cast<T>(alpha * acc + (accumulate ? y[m * N + n] : T(0)));
    }
}

// ------------------------------------------------------------------------------------- MatMul
// Shapes of one MatMul, resolved: both operands as [batch…, rows, cols] of one rank.
struct MatMulShape {
  Shape y;      // ONNX output shape
  Shape batch;  // broadcast batch dims
  Shape a, b;   // operands with 1-D promoted and ranks aligned
  int64_t M = 0, K = 0, N = 0;
};

MatMulShape resolveMatMul(const KernelIo& io, const Shape& aIn, const Shape& bIn) {
  if (aIn.empty() || bIn.empty())
    throwRunError(io, "operands must have rank ≥ 1, got " + shapeString(aIn) + " and " + shapeString(bIn));
  MatMulShape s;
  s.a = aIn.size() == 1 ? Shape{1, aIn[0]} : aIn;
  s.b = bIn.size() == 1 ? Shape{bIn[0], 1} : bIn;
  s.M = s.a[s.a.size() - 2];
  s.K = s.a.back();
  s.N = s.b.back();
  if (s.b[s.b.size() - 2] != s.K)
    throwRunError(io, "shapes " + shapeString(aIn) + " and " + shapeString(bIn) + " cannot be multiplied (" +
                          std::to_string(s.K) + " vs " + std::to_string(s.b[s.b.size() - 2]) + ")");
  const size_t rank = std::max(s.a.size(), s.b.size());
  s.a.insert(s.a.begin(), rank - s.a.size(), 1);
  s.b.insert(s.b.begin(), rank - s.b.size(), 1);
  for (size_t d = 0; d + 2 < rank; ++d) {
    if (s.a[d] != s.b[d] && s.a[d] != 1 && s.b[d] != 1)
      throwRunError(io, "batch dims of " + shapeString(aIn) + " and " + shapeString(bIn) + " do not broadcast");
    s.batch.push_back(s.a[d] == 1 ? s.b[d] : s.a[d]);
  }
  s.y = s.batch;
  if (aIn.size() > 1) s.y.push_back(s.M);
  if (bIn.size() > 1) s.y.push_back(s.N);
  return s;
}

// Element strides of each operand's matrices along the broadcast batch dims.
std::vector<int64_t> batchStrides(const Shape& operand, const Shape& batch, int64_t matrixSize) {
  std::vector<int64_t> st(batch.size());
  int64_t stride = matrixSize;
  for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
    st[static_cast<size_t>(d)] = operand[static_cast<size_t>(d)] == 1 ? 0 : stride;
    stride *= operand[static_cast<size_t>(d)];
  }
  return st;
}

template <typename T>
void runReferenceMatMul(const RtTensor& a, const RtTensor& b, RtTensor& y, const MatMulShape& s) {
  referenceMatMul<T>(a.as<T>(), b.as<T>(), y.as<T>(), s.batch, batchStrides(s.a, s.batch, s.M * s.K),
                     batchStrides(s.b, s.batch, s.K * s.N), s.M, s.K, s.N);
}

void runReferenceMatMulAny(const KernelIo& io, const RtTensor& a, const RtTensor& b, RtTensor& y, const MatMulShape& s) {
  switch (a.dtype) {
    case ir::DataType::kFloat: return runReferenceMatMul<float>(a, b, y, s);
    case ir::DataType::kDouble: return runReferenceMatMul<double>(a, b, y, s);
    case ir::DataType::kInt32: return runReferenceMatMul<int32_t>(a, b, y, s);
    case ir::DataType::kInt64: return runReferenceMatMul<int64_t>(a, b, y, s);
    case ir::DataType::kUint32: return runReferenceMatMul<uint32_t>(a, b, y, s);
    case ir::DataType::kUint64: return runReferenceMatMul<uint64_t>(a, b, y, s);
    default: throwUnsupported(io.describe() + ": " + std::string(ir::dtypeName(a.dtype)) + " inputs");
  }
}

class MatMulKernel : public Kernel {
 public:
  explicit MatMulKernel(const KernelBuildContext& ctx) {
    checkDtypes(ctx, 2);
    if (ctx.numInputs() < 2 || !ctx.input(0) || !ctx.input(1)) ctx.invalid("needs inputs A and B");
    const ir::Tensor* b = ctx.constInput(1);
    if (!isConstFloat(b) || b->rank() != 2) return;
    linear_.emplace(*b, false, false, 1.f, std::vector<float>{}, false);
    // Reorder the weights now for the rows A is declared to have (a symbolic batch taken as 1).
    const ir::ValueType& at = ctx.input(0)->type();
    if (!at.shape || at.shape->empty() || !at.shape->back().value || *at.shape->back().value != b->dims()[0]) return;
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < at.shape->size(); ++d) {
      const auto& dim = (*at.shape)[d];
      if (dim.value) rows *= *dim.value;
      else if (d != 0) return;
    }
    DnnlThreadScope threads(ctx.threads);
    try {
      linear_->prepare(rows);
    } catch (const dnnl::error& e) {
      throwDnnlError(ctx.describe(), e);
    }
  }

  void run(KernelIo& io) override {
    const RtTensor* a = io.input(0);
    const RtTensor* b = io.input(1);
    if (!a || !b) throwRunError(io, "inputs A and B are required");
    if (a->dtype != b->dtype)
      throwRunError(io, "A is " + std::string(ir::dtypeName(a->dtype)) + " but B is " + std::string(ir::dtypeName(b->dtype)));
    MatMulShape s = resolveMatMul(io, a->dims, b->dims);
    RtTensor& y = io.allocOutput(0, a->dtype, s.y);
    if (y.nbytes == 0) return;
    if (s.K == 0) {
      std::memset(y.data, 0, y.nbytes);
      return;
    }
    try {
      if (linear_ && a->dtype == ir::DataType::kFloat && b->rank() == 2) {
        // B is a constant matrix: every row of every batch of A is one row of a single GEMM.
        linear_->run(a->as<float>(), a->numel() / s.K, y.as<float>());
      } else if (a->dtype == ir::DataType::kFloat && s.a.size() <= DNNL_MAX_NDIMS) {
        runBatched(*a, *b, y, s);
      } else {
        runReferenceMatMulAny(io, *a, *b, y, s);
      }
    } catch (const dnnl::error& e) {
      throwDnnlError(io.describe(), e);
    }
  }

 private:
  struct Plan {
    Shape a, b;
    int threads = 0;
    dnnl::primitive prim;
    memory am, bm, ym;
  };

  void runBatched(const RtTensor& a, const RtTensor& b, RtTensor& y, const MatMulShape& s) {
    const int threads = dnnlThreads();
    Plan* plan = nullptr;
    for (Plan& p : plans_)
      if (p.a == a.dims && p.b == b.dims && p.threads == threads) plan = &p;
    if (!plan) {
      const auto& eng = dnnlEngine();
      const size_t rank = s.a.size();
      Shape yFull = s.batch;
      yFull.push_back(s.M);
      yFull.push_back(s.N);
      Plan p;
      p.a = a.dims;
      p.b = b.dims;
      p.threads = threads;
      memory::desc aD = f32Desc(s.a, plainTag(rank)), bD = f32Desc(s.b, plainTag(rank)), yD = f32Desc(yFull, plainTag(rank));
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aD, bD, yD), eng);
      p.prim = dnnl::matmul(pd);
      p.am = memory(aD, eng, DNNL_MEMORY_NONE);
      p.bm = memory(bD, eng, DNNL_MEMORY_NONE);
      p.ym = memory(yD, eng, DNNL_MEMORY_NONE);
      if (plans_.size() >= 16) plans_.erase(plans_.begin());
      plans_.push_back(std::move(p));
      plan = &plans_.back();
    }
    plan->am.set_data_handle(const_cast<void*>(a.data));
    plan->bm.set_data_handle(const_cast<void*>(b.data));
    plan->ym.set_data_handle(y.data);
    plan->prim.execute(dnnlStream(), {{DNNL_ARG_SRC, plan->am}, {DNNL_ARG_WEIGHTS, plan->bm}, {DNNL_ARG_DST, plan->ym}});
    dnnlStream().wait();
  }

  std::optional<ConstWeightGemm> linear_;
  std::vector<Plan> plans_;
};

// --------------------------------------------------------------------------------------- Gemm
class GemmKernel : public Kernel {
 public:
  explicit GemmKernel(const KernelBuildContext& ctx) {
    checkDtypes(ctx, 3);
    if (ctx.numInputs() < 2 || !ctx.input(0) || !ctx.input(1)) ctx.invalid("needs inputs A and B");
    transA_ = ctx.node.attrInt("transA", 0) != 0;
    transB_ = ctx.node.attrInt("transB", 0) != 0;
    alpha_ = ctx.node.attrFloat("alpha", 1.f);
    beta_ = ctx.node.attrFloat("beta", 1.f);
    broadcast_ = ctx.opset >= 7 || ctx.node.attrInt("broadcast", 0) != 0;
    hasC_ = ctx.numInputs() > 2 && ctx.input(2) != nullptr;
    const ir::Tensor* b = ctx.constInput(1);
    if (!isConstFloat(b) || b->rank() != 2) return;
    const ir::Tensor* c = hasC_ ? ctx.constInput(2) : nullptr;
    const int64_t N = transB_ ? b->dims()[0] : b->dims()[1];
    // C folds into the primitive's bias when it is a constant row ([N], [1,N], a scalar):
    // beta·C expanded to N values. Any other C is added by prefilling Y (accumulate).
    std::vector<float> bias;
    bool accumulate = false;
    if (hasC_ && beta_ != 0.f) {
      if (c && c->dtype() == ir::DataType::kFloat && c->rank() <= 2 && (c->numel() == 1 || c->numel() == N) &&
          (c->rank() == 0 || c->dims().back() == c->numel()) && (broadcast_ || c->rank() == 2)) {
        auto v = c->values<float>();
        bias.resize(static_cast<size_t>(N));
        for (int64_t n = 0; n < N; ++n) bias[static_cast<size_t>(n)] = beta_ * v[c->numel() == 1 ? 0 : static_cast<size_t>(n)];
        biasInLinear_ = true;
      } else {
        accumulate = true;
      }
    } else {
      biasInLinear_ = true;  // nothing to add
    }
    linear_.emplace(*b, transA_, transB_, alpha_, std::move(bias), accumulate);
    const ir::ValueType& at = ctx.input(0)->type();
    if (!at.shape || at.shape->size() != 2) return;
    const auto& rowsDim = (*at.shape)[transA_ ? 1 : 0];
    const auto& kDim = (*at.shape)[transA_ ? 0 : 1];
    if (!kDim.value || *kDim.value != linear_->K()) return;
    DnnlThreadScope threads(ctx.threads);
    try {
      linear_->prepare(rowsDim.value ? *rowsDim.value : 1);
    } catch (const dnnl::error& e) {
      throwDnnlError(ctx.describe(), e);
    }
  }

  void run(KernelIo& io) override {
    const RtTensor* a = io.input(0);
    const RtTensor* b = io.input(1);
    const RtTensor* c = io.numInputs() > 2 ? io.input(2) : nullptr;
    if (!a || !b) throwRunError(io, "inputs A and B are required");
    if (a->dtype != b->dtype || (c && c->dtype != a->dtype))
      throwRunError(io, "inputs have different types");
    if (a->rank() != 2 || b->rank() != 2)
      throwRunError(io, "A and B must be matrices, got " + shapeString(a->dims) + " and " + shapeString(b->dims));
    const int64_t M = transA_ ? a->dims[1] : a->dims[0], K = transA_ ? a->dims[0] : a->dims[1];
    const int64_t Kb = transB_ ? b->dims[1] : b->dims[0], N = transB_ ? b->dims[0] : b->dims[1];
    if (K != Kb)
      throwRunError(io, "A " + shapeString(a->dims) + (transA_ ? " (transposed)" : "") + " and B " + shapeString(b->dims) +
                            (transB_ ? " (transposed)" : "") + " cannot be multiplied");
    if (c) checkC(io, c->dims, M, N);
    RtTensor& y = io.allocOutput(0, a->dtype, {M, N});
    if (y.nbytes == 0) return;
    const bool addC = c && beta_ != 0.f;
    try {
      if (linear_ && a->dtype == ir::DataType::kFloat) {
        if (addC && !biasInLinear_) fillC(*c, y, M, N);
        linear_->run(a->as<float>(), M, y.as<float>());
        return;
      }
      if (addC) fillC(*c, y, M, N);
      switch (a->dtype) {
        case ir::DataType::kFloat: {
          if (!addC && K == 0) std::memset(y.data, 0, y.nbytes);
          if (K == 0) return;
          dnnl_status_t st = dnnl_sgemm(transA_ ? 'T' : 'N', transB_ ? 'T' : 'N', M, N, K, alpha_, a->as<float>(),
                                        transA_ ? M : K, b->as<float>(), transB_ ? K : N, addC ? 1.f : 0.f, y.as<float>(), N);
          if (st != dnnl_success) throw dnnl::error(st, "dnnl_sgemm");
          return;
        }
        case ir::DataType::kDouble: return reference<double>(*a, *b, y, M, K, N, addC);
        case ir::DataType::kInt32: return reference<int32_t>(*a, *b, y, M, K, N, addC);
        case ir::DataType::kInt64: return reference<int64_t>(*a, *b, y, M, K, N, addC);
        case ir::DataType::kUint32: return reference<uint32_t>(*a, *b, y, M, K, N, addC);
        case ir::DataType::kUint64: return reference<uint64_t>(*a, *b, y, M, K, N, addC);
        default: throwUnsupported(io.describe() + ": " + std::string(ir::dtypeName(a->dtype)) + " inputs");
      }
    } catch (const dnnl::error& e) {
      throwDnnlError(io.describe(), e);
    }
  }

 private:
  // C must broadcast to [M,N] (unidirectionally); before opset 7 only with broadcast=1.
  void checkC(const KernelIo& io, const Shape& c, int64_t M, int64_t N) const {
    const Shape y{M, N};
    bool ok = c.size() <= 2;
    if (!broadcast_) ok = c == y;
    for (size_t i = 0; ok && i < c.size(); ++i) {
      const int64_t want = y[2 - c.size() + i];
      ok = c[i] == want || c[i] == 1;
    }
    if (!ok)
      throwRunError(io, "C " + shapeString(c) + " does not broadcast to the output " + shapeString(y) +
                            (broadcast_ ? "" : " (broadcast=0 before opset 7: C must match it)"));
  }

  // y = beta · C broadcast to [M,N], in y's dtype.
  void fillC(const RtTensor& c, RtTensor& y, int64_t M, int64_t N) const {
    const int64_t cm = c.rank() == 2 ? c.dims[0] : 1, cn = c.rank() >= 1 ? c.dims.back() : 1;
    auto fill = [&](auto* out, const auto* in) {
      using T = std::remove_pointer_t<decltype(out)>;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          out[m * N + n] = static_cast<T>(static_cast<T>(beta_) * in[(cm == 1 ? 0 : m) * cn + (cn == 1 ? 0 : n)]);
    };
    switch (y.dtype) {
      case ir::DataType::kFloat: return fill(y.as<float>(), c.as<float>());
      case ir::DataType::kDouble: return fill(y.as<double>(), c.as<double>());
      case ir::DataType::kInt32: return fill(y.as<int32_t>(), c.as<int32_t>());
      case ir::DataType::kInt64: return fill(y.as<int64_t>(), c.as<int64_t>());
      case ir::DataType::kUint32: return fill(y.as<uint32_t>(), c.as<uint32_t>());
      case ir::DataType::kUint64: return fill(y.as<uint64_t>(), c.as<uint64_t>());
      default: return;
    }
  }

  template <typename T>
  void reference(const RtTensor& a, const RtTensor& b, RtTensor& y, int64_t M, int64_t K, int64_t N, bool addC) const {
    // Integer Gemm: ONNX defines alpha and beta as floats; they scale in T like ONNX Runtime does.
    referenceGemm<T>(a.as<T>(), b.as<T>(), y.as<T>(), M, K, N, transA_, transB_, static_cast<T>(alpha_), addC);
  }

  bool transA_ = false, transB_ = false, broadcast_ = true, hasC_ = false, biasInLinear_ = false;
  float alpha_ = 1.f, beta_ = 1.f;
  std::optional<ConstWeightGemm> linear_;
};

std::unique_ptr<Kernel> makeMatMul(const KernelBuildContext& ctx) { return std::make_unique<MatMulKernel>(ctx); }
std::unique_ptr<Kernel> makeGemm(const KernelBuildContext& ctx) { return std::make_unique<GemmKernel>(ctx); }

}  // namespace

void registerMatMulKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "MatMul", 1, 1000, float16ViaFloat(makeMatMul)});
  r.add(KernelEntry{"", "Gemm", 1, 1000, float16ViaFloat(makeGemm)});
}

}  // namespace effdl::runtime
