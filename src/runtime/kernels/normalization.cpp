// Normalizations: BatchNormalization (inference and training mode), InstanceNormalization, LayerNormalization,
// LpNormalization, MeanVarianceNormalization, LRN. Statistics are accumulated in double (a plane
// can hold millions of elements), the element-wise part runs in the input's type. float16 inputs
// are computed in float.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/half.h"

// `omp simd` asks for vectorisation; clang warns where it cannot comply (always under ASan's
// instrumentation), and -Werror would make that warning a failed build.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace effdl::runtime {
namespace {

bool isFloatType(ir::DataType t) {
  return t == ir::DataType::kFloat || t == ir::DataType::kDouble || t == ir::DataType::kFloat16;
}

// A parameter tensor (scale, bias, mean, ...) of any float type, as values of type T.
template <typename T>
std::vector<T> paramValues(const KernelIo& io, const RtTensor* t, const char* name) {
  if (!t) throwRunError(io, std::string(name) + " is missing");
  const size_t n = static_cast<size_t>(t->numel());
  std::vector<T> v(n);
  switch (t->dtype) {
    case ir::DataType::kFloat:
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(t->as<float>()[i]);
      break;
    case ir::DataType::kDouble:
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(t->as<double>()[i]);
      break;
    case ir::DataType::kFloat16:
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<T>(halfToFloat(t->as<uint16_t>()[i]));
      break;
    default:
      throwRunError(io, std::string(name) + " has unsupported type " + std::string(ir::dtypeName(t->dtype)));
  }
  return v;
}

void checkBuildType(const KernelBuildContext& ctx) {
  if (ctx.numInputs() < 1 || !ctx.input(0)) ctx.invalid("needs an input");
  const ir::ValueType& t = ctx.input(0)->type();
  if (t.kind == ir::ValueType::Kind::kTensor && t.elemType != ir::DataType::kUndefined && !isFloatType(t.elemType))
    ctx.unsupported("input type " + std::string(ir::dtypeName(t.elemType)) + " is not supported");
}

const RtTensor& input0(const KernelIo& io) {
  const RtTensor* x = io.input(0);
  if (!x) throwRunError(io, "input 0 is missing");
  if (!isFloatType(x->dtype)) throwRunError(io, "unsupported input type " + std::string(ir::dtypeName(x->dtype)));
  return *x;
}

// Runs f<T>(x, y) for float and double, and for float16 through float copies.
template <typename F>
void withFloatTypes(const RtTensor& x, RtTensor& y, F&& f) {
  if (x.dtype == ir::DataType::kFloat) return f(x.as<float>(), y.as<float>());
  if (x.dtype == ir::DataType::kDouble) return f(x.as<double>(), y.as<double>());
  const size_t n = static_cast<size_t>(x.numel());
  std::vector<float> xf(n), yf(static_cast<size_t>(y.numel()));
  for (size_t i = 0; i < n; ++i) xf[i] = halfToFloat(x.as<uint16_t>()[i]);
  f(static_cast<const float*>(xf.data()), yf.data());
  for (size_t i = 0; i < yf.size(); ++i) y.as<uint16_t>()[i] = floatToHalf(yf[i]);
}

// Runs f on x's values as float or double (float16 through a float copy).
template <typename F>
void withFloatTypesRead(const RtTensor& x, F&& f) {
  if (x.dtype == ir::DataType::kFloat) return f(x.as<float>());
  if (x.dtype == ir::DataType::kDouble) return f(x.as<double>());
  std::vector<float> xf(static_cast<size_t>(x.numel()));
  for (size_t i = 0; i < xf.size(); ++i) xf[i] = halfToFloat(x.as<uint16_t>()[i]);
  f(static_cast<const float*>(xf.data()));
}

int64_t normAxis(const KernelIo& io, int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throwRunError(io, "axis " + std::to_string(axis) + " is out of range for input of rank " + std::to_string(rank));
  return a;
}

// -------------------------------------------------------------------------- BatchNormalization
// y = (x - mean) * a + B with a = scale / sqrt(var + eps) per channel. Not folded further into
// x * a + b: with a tiny variance a is large and x * a + b cancels badly in float.
// With spatial = 0 (before opset 9) the parameters hold one value per element of x's [C, D1, ...].
// training_mode = 1 (opset >= 14) normalizes with the batch's own statistics, as ONNX specifies:
//   m_b = mean of x over all axes but 1,  v_b = population variance over them,
//   y = (x - m_b) / sqrt(v_b + eps) * scale + B,
//   running_mean = mean * momentum + m_b * (1 - momentum)   (running_var likewise from var, v_b).
// Deterministic: nothing is sampled. Before opset 14 training is marked by 5 outputs (saved
// statistics of another definition): not supported.
class BatchNormKernel : public Kernel {
 public:
  explicit BatchNormKernel(const KernelBuildContext& ctx) {
    checkBuildType(ctx);
    const ir::Node& n = ctx.node;
    epsilon_ = n.attrFloat("epsilon", 1e-5f);
    spatial_ = ctx.opset >= 9 || n.attrInt("spatial", 1) != 0;
    training_ = ctx.opset >= 14 && n.attrInt("training_mode", 0) != 0;
    momentum_ = n.attrFloat("momentum", 0.9f);
    // Outputs beyond Y exist only in training mode (every output present must be produced).
    for (size_t i = training_ ? 3 : 1; i < n.numOutputs(); ++i)
      if (n.output(i))
        ctx.unsupported(training_ ? "BatchNormalization has more than 3 outputs"
                                  : "BatchNormalization's training outputs before opset 14 (saved statistics) are "
                                    "not supported");
    if (ctx.numInputs() < 5) ctx.invalid("needs 5 inputs (X, scale, B, mean, var)");
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io);
    if (x.rank() < 2) throwRunError(io, "input shape " + shapeString(x.dims) + " must have rank 2 or more");
    const int64_t batch = x.dims[0], c = x.dims[1];
    const int64_t inner = batch * c != 0 ? x.numel() / (batch * c) : 0;
    const int64_t perBatch = spatial_ ? c : c * inner;
    std::vector<double> scale = paramValues<double>(io, io.input(1), "scale");
    std::vector<double> bias = paramValues<double>(io, io.input(2), "B");
    std::vector<double> mean = paramValues<double>(io, io.input(3), "mean");
    std::vector<double> var = paramValues<double>(io, io.input(4), "var");
    for (const auto* v : {&scale, &bias, &mean, &var})
      if (static_cast<int64_t>(v->size()) != perBatch)
        throwRunError(io, "scale, B, mean and var must have " + std::to_string(perBatch) + " values for input " +
                              shapeString(x.dims) + ", one has " + std::to_string(v->size()));
    if (training_) trainingStatistics(io, x, mean, var);
    std::vector<double> a(static_cast<size_t>(perBatch));
    for (size_t i = 0; i < a.size(); ++i) a[i] = scale[i] / std::sqrt(var[i] + static_cast<double>(epsilon_));
    RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, x.dims);
    withFloatTypes(x, y, [&](const auto* xp, auto* yp) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(xp)>>;
      std::vector<T> at(a.begin(), a.end()), bt(bias.begin(), bias.end()), mt(mean.begin(), mean.end());
      const int64_t planes = batch * c;
      [[maybe_unused]] const bool big = x.numel() >= (1 << 15);
#pragma omp parallel for if (big && planes > 1) schedule(static)
      for (int64_t p = 0; p < planes; ++p) {
        const T* xs = xp + p * inner;
        T* ys = yp + p * inner;
        if (spatial_) {
          const size_t ch = static_cast<size_t>(p % c);
          const T av = at[ch], bv = bt[ch], mv = mt[ch];
#pragma omp simd
          for (int64_t i = 0; i < inner; ++i) ys[i] = (xs[i] - mv) * av + bv;
        } else {
          const T* ap = at.data() + (p % c) * inner;
          const T* bp = bt.data() + (p % c) * inner;
          const T* mp = mt.data() + (p % c) * inner;
#pragma omp simd
          for (int64_t i = 0; i < inner; ++i) ys[i] = (xs[i] - mp[i]) * ap[i] + bp[i];
        }
      }
    });
  }

 private:
  // Replaces mean/var by the batch's statistics and writes the running ones (outputs 1, 2) in the
  // type of the mean/var inputs.
  void trainingStatistics(KernelIo& io, const RtTensor& x, std::vector<double>& mean, std::vector<double>& var) const {
    const int64_t batch = x.dims[0], c = x.dims[1];
    const int64_t inner = batch * c != 0 ? x.numel() / (batch * c) : 0;
    const int64_t count = batch * inner;
    if (count == 0) throwRunError(io, "training mode needs a non-empty batch, input is " + shapeString(x.dims));
    std::vector<double> bm(static_cast<size_t>(c)), bv(static_cast<size_t>(c));
    withFloatTypesRead(x, [&](const auto* xp) {
      for (int64_t ch = 0; ch < c; ++ch) {
        double s = 0, s2 = 0;
        for (int64_t b = 0; b < batch; ++b) {
          const auto* p = xp + (b * c + ch) * inner;
          for (int64_t i = 0; i < inner; ++i) s += static_cast<double>(p[i]);
        }
        const double m = s / static_cast<double>(count);
        for (int64_t b = 0; b < batch; ++b) {
          const auto* p = xp + (b * c + ch) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            const double d = static_cast<double>(p[i]) - m;
            s2 += d * d;
          }
        }
        bm[static_cast<size_t>(ch)] = m;
        bv[static_cast<size_t>(ch)] = s2 / static_cast<double>(count);
      }
    });
    const double mo = momentum_;
    for (size_t out : {size_t{1}, size_t{2}}) {
      if (out >= io.numOutputs() || !io.hasOutput(out)) continue;
      const std::vector<double>& running = out == 1 ? mean : var;
      const std::vector<double>& batchStat = out == 1 ? bm : bv;
      const RtTensor* like = io.input(out == 1 ? 3 : 4);
      RtTensor& r = io.allocOutput(out, like->dtype, like->dims);
      for (size_t i = 0; i < running.size(); ++i) {
        const double v = running[i] * mo + batchStat[i] * (1 - mo);
        if (r.dtype == ir::DataType::kDouble) r.as<double>()[i] = v;
        else if (r.dtype == ir::DataType::kFloat16) r.as<uint16_t>()[i] = floatToHalf(static_cast<float>(v));
        else r.as<float>()[i] = static_cast<float>(v);
      }
    }
    mean = std::move(bm);
    var = std::move(bv);
  }

  float epsilon_ = 1e-5f;
  float momentum_ = 0.9f;
  bool spatial_ = true;
  bool training_ = false;
};

// Mean and 1/sqrt(var + eps) of n contiguous values (two passes, double accumulators).
template <typename T>
void meanInvStd(const T* x, int64_t n, double eps, double& mean, double& invStd) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]);
  mean = n > 0 ? s / static_cast<double>(n) : 0;
  double v = 0;
  const double m = mean;
#pragma omp simd reduction(+ : v)
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - m;
    v += d * d;
  }
  invStd = 1.0 / std::sqrt((n > 0 ? v / static_cast<double>(n) : 0) + eps);
}

// ---------------------------------------------------------------------- InstanceNormalization
class InstanceNormKernel : public Kernel {
 public:
  explicit InstanceNormKernel(const KernelBuildContext& ctx) {
    checkBuildType(ctx);
    epsilon_ = ctx.node.attrFloat("epsilon", 1e-5f);
    if (ctx.numInputs() < 3) ctx.invalid("needs 3 inputs (input, scale, B)");
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io);
    if (x.rank() < 2) throwRunError(io, "input shape " + shapeString(x.dims) + " must have rank 2 or more");
    const int64_t c = x.dims[1], planes = x.dims[0] * c;
    const int64_t inner = planes ? x.numel() / planes : 0;
    std::vector<double> scale = paramValues<double>(io, io.input(1), "scale");
    std::vector<double> bias = paramValues<double>(io, io.input(2), "B");
    if (static_cast<int64_t>(scale.size()) != c || static_cast<int64_t>(bias.size()) != c)
      throwRunError(io, "scale and B must have " + std::to_string(c) + " values for input " + shapeString(x.dims));
    RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, x.dims);
    const double eps = epsilon_;
    withFloatTypes(x, y, [&](const auto* xp, auto* yp) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(xp)>>;
      [[maybe_unused]] const bool big = x.numel() >= (1 << 15);
#pragma omp parallel for if (big && planes > 1) schedule(static)
      for (int64_t p = 0; p < planes; ++p) {
        double mean, invStd;
        meanInvStd(xp + p * inner, inner, eps, mean, invStd);
        const double a = scale[static_cast<size_t>(p % c)] * invStd;
        const T av = static_cast<T>(a), bv = static_cast<T>(bias[static_cast<size_t>(p % c)]), mv = static_cast<T>(mean);
        const T* xs = xp + p * inner;
        T* ys = yp + p * inner;
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) ys[i] = (xs[i] - mv) * av + bv;
      }
    });
  }

 private:
  float epsilon_ = 1e-5f;
};

// ------------------------------------------------------------------------- LayerNormalization
// Normalises over dims [axis, rank); Scale and B broadcast (numpy-style, from the right) to
// those dims. Optional outputs Mean and InvStdDev have x's leading dims and 1 for the rest.
class LayerNormKernel : public Kernel {
 public:
  explicit LayerNormKernel(const KernelBuildContext& ctx) {
    checkBuildType(ctx);
    axis_ = ctx.node.attrInt("axis", -1);
    epsilon_ = ctx.node.attrFloat("epsilon", 1e-5f);
    int64_t stash = ctx.node.attrInt("stash_type", 1);
    if (stash == 1) statType_ = ir::DataType::kFloat;
    else if (stash == 11) statType_ = ir::DataType::kDouble;
    else ctx.unsupported("stash_type " + std::to_string(stash) + " is not supported (float or double)");
    if (ctx.numInputs() < 2 || !ctx.input(1)) ctx.invalid("needs inputs X and Scale");
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io);
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = normAxis(io, axis_, rank);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= x.dims[static_cast<size_t>(d)];
    const Shape normDims(x.dims.begin() + axis, x.dims.end());
    std::vector<double> scale = broadcastParam(io, io.input(1), "Scale", normDims);
    const RtTensor* b = io.numInputs() > 2 ? io.input(2) : nullptr;
    std::vector<double> bias = b ? broadcastParam(io, b, "B", normDims) : std::vector<double>(static_cast<size_t>(inner), 0.0);
    RtTensor& y = io.allocOutput(0, x.dtype, x.dims);
    Shape statDims = x.dims;
    for (int64_t d = axis; d < rank; ++d) statDims[static_cast<size_t>(d)] = 1;
    RtTensor* meanOut = io.numOutputs() > 1 && io.hasOutput(1) ? &io.allocOutput(1, statType_, statDims) : nullptr;
    RtTensor* invOut = io.numOutputs() > 2 && io.hasOutput(2) ? &io.allocOutput(2, statType_, statDims) : nullptr;
    std::vector<double> means(static_cast<size_t>(outer)), invs(static_cast<size_t>(outer));
    const double eps = epsilon_;
    withFloatTypes(x, y, [&](const auto* xp, auto* yp) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(xp)>>;
      std::vector<T> st(scale.begin(), scale.end()), bt(bias.begin(), bias.end());
      [[maybe_unused]] const bool big = x.numel() >= (1 << 15);
#pragma omp parallel for if (big && outer > 1) schedule(static)
      for (int64_t o = 0; o < outer; ++o) {
        double mean, invStd;
        meanInvStd(xp + o * inner, inner, eps, mean, invStd);
        means[static_cast<size_t>(o)] = mean;
        invs[static_cast<size_t>(o)] = invStd;
        const T m = static_cast<T>(mean), is = static_cast<T>(invStd);
        const T* xs = xp + o * inner;
        T* ys = yp + o * inner;
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) ys[i] = (xs[i] - m) * is * st[static_cast<size_t>(i)] + bt[static_cast<size_t>(i)];
      }
    });
    for (RtTensor* t : {meanOut, invOut}) {
      if (!t) continue;
      const std::vector<double>& v = t == meanOut ? means : invs;
      for (size_t i = 0; i < v.size(); ++i) {
        if (statType_ == ir::DataType::kFloat) t->as<float>()[i] = static_cast<float>(v[i]);
        else t->as<double>()[i] = v[i];
      }
    }
  }

 private:
  // The parameter expanded to `dims` (numpy broadcasting from the right).
  static std::vector<double> broadcastParam(const KernelIo& io, const RtTensor* t, const char* name,
                                            const Shape& dims) {
    std::vector<double> v = paramValues<double>(io, t, name);
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    if (static_cast<int64_t>(v.size()) == n && t->dims.size() <= dims.size()) return v;
    if (t->dims.size() > dims.size())
      throwRunError(io, std::string(name) + " shape " + shapeString(t->dims) + " does not broadcast to " + shapeString(dims));
    const size_t shift = dims.size() - t->dims.size();
    std::vector<int64_t> strides(dims.size(), 0);
    int64_t s = 1;
    for (size_t d = t->dims.size(); d-- > 0;) {
      const int64_t pd = t->dims[d], xd = dims[d + shift];
      if (pd != xd && pd != 1)
        throwRunError(io, std::string(name) + " shape " + shapeString(t->dims) + " does not broadcast to " + shapeString(dims));
      strides[d + shift] = pd == 1 ? 0 : s;
      s *= pd;
    }
    std::vector<double> out(static_cast<size_t>(n));
    std::vector<int64_t> at(dims.size(), 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t off = 0;
      for (size_t d = 0; d < dims.size(); ++d) off += at[d] * strides[d];
      out[static_cast<size_t>(i)] = v[static_cast<size_t>(off)];
      for (size_t d = dims.size(); d-- > 0;) {
        if (++at[d] < dims[d]) break;
        at[d] = 0;
      }
    }
    return out;
  }

  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
  ir::DataType statType_ = ir::DataType::kFloat;
};

// ---------------------------------------------------------------------------- LpNormalization
// y = x / ||x||_p along one axis (p is 1 or 2); a zero norm gives zeros rather than NaN.
class LpNormKernel : public Kernel {
 public:
  explicit LpNormKernel(const KernelBuildContext& ctx) {
    checkBuildType(ctx);
    axis_ = ctx.node.attrInt("axis", -1);
    p_ = ctx.node.attrInt("p", 2);
    if (p_ != 1 && p_ != 2) ctx.invalid("p must be 1 or 2, got " + std::to_string(p_));
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io);
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = normAxis(io, axis_, rank);
    int64_t outer = 1, n = x.dims[static_cast<size_t>(axis)], inner = 1;
    for (int64_t d = 0; d < rank; ++d)
      if (d < axis) outer *= x.dims[static_cast<size_t>(d)];
      else if (d > axis) inner *= x.dims[static_cast<size_t>(d)];
    RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, x.dims);
    const bool l1 = p_ == 1;
    withFloatTypes(x, y, [&](const auto* xp, auto* yp) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(xp)>>;
      const int64_t cols = outer * inner;
      [[maybe_unused]] const bool big = x.numel() >= (1 << 15);
#pragma omp parallel for if (big && cols > 1) schedule(static)
      for (int64_t col = 0; col < cols; ++col) {
        const int64_t base = (col / inner) * n * inner + col % inner;
        double s = 0;
        for (int64_t a = 0; a < n; ++a) {
          const double v = static_cast<double>(xp[base + a * inner]);
          s += l1 ? std::fabs(v) : v * v;
        }
        const double norm = l1 ? s : std::sqrt(s);
        const T inv = norm > 0 ? static_cast<T>(1.0 / norm) : T(0);
        for (int64_t a = 0; a < n; ++a) yp[base + a * inner] = xp[base + a * inner] * inv;
      }
    });
  }

 private:
  int64_t axis_ = -1;
  int64_t p_ = 2;
};

// ------------------------------------------------------------------ MeanVarianceNormalization
// ONNX's function body: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9), expectations over `axes`.
class MvnKernel : public Kernel {
 public:
  explicit MvnKernel(const KernelBuildContext& ctx) {
    checkBuildType(ctx);
    const ir::Attribute* a = ctx.node.attr("axes");
    axes_ = a ? ctx.node.attrInts("axes") : std::vector<int64_t>{0, 2, 3};
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io);
    const size_t rank = x.rank();
    std::vector<bool> reduced(rank, false);
    for (int64_t a : axes_) reduced[static_cast<size_t>(normAxis(io, a, static_cast<int64_t>(rank)))] = true;
    // Each element's group (its index over the kept dims).
    std::vector<int64_t> groupStride(rank, 0);
    int64_t groups = 1;
    for (size_t d = rank; d-- > 0;) {
      if (reduced[d]) continue;
      groupStride[d] = groups;
      groups *= x.dims[d];
    }
    const int64_t total = x.numel();
    std::vector<int64_t> groupOf(static_cast<size_t>(total));
    std::vector<int64_t> at(rank, 0);
    int64_t g = 0;
    for (int64_t i = 0; i < total; ++i) {
      groupOf[static_cast<size_t>(i)] = g;
      for (size_t d = rank; d-- > 0;) {
        g += groupStride[d];
        if (++at[d] < x.dims[d]) break;
        g -= groupStride[d] * x.dims[d];
        at[d] = 0;
      }
    }
    RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, x.dims);
    withFloatTypes(x, y, [&](const auto* xp, auto* yp) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(xp)>>;
      std::vector<double> sum(static_cast<size_t>(groups), 0), sq(static_cast<size_t>(groups), 0),
          count(static_cast<size_t>(groups), 0);
      for (int64_t i = 0; i < total; ++i) {
        const size_t k = static_cast<size_t>(groupOf[static_cast<size_t>(i)]);
        const double v = static_cast<double>(xp[i]);
        sum[k] += v;
        sq[k] += v * v;
        count[k] += 1;
      }
      for (size_t k = 0; k < sum.size(); ++k) {
        const double mean = count[k] > 0 ? sum[k] / count[k] : 0;
        const double var = count[k] > 0 ? sq[k] / count[k] - mean * mean : 0;
        sum[k] = mean;
        sq[k] = 1.0 / (std::sqrt(std::max(var, 0.0)) + 1e-9);
      }
      for (int64_t i = 0; i < total; ++i) {
        const size_t k = static_cast<size_t>(groupOf[static_cast<size_t>(i)]);
        yp[i] = static_cast<T>((static_cast<double>(xp[i]) - sum[k]) * sq[k]);
      }
    });
  }

 private:
  std::vector<int64_t> axes_;
};

// -------------------------------------------------------------------------------------- LRN
// y = x / (bias + alpha / size * sum of x^2 over the channels c - floor((size-1)/2) ..
// c + ceil((size-1)/2))^beta.
class LrnKernel : public Kernel {
 public:
  explicit LrnKernel(const KernelBuildContext& ctx) {
    checkBuildType(ctx);
    const ir::Node& n = ctx.node;
    size_ = n.attrInt("size", 0);
    if (size_ < 1) ctx.invalid("size must be positive");
    alpha_ = n.attrFloat("alpha", 1e-4f);
    beta_ = n.attrFloat("beta", 0.75f);
    bias_ = n.attrFloat("bias", 1.0f);
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io);
    if (x.rank() < 2) throwRunError(io, "input shape " + shapeString(x.dims) + " must have rank 2 or more");
    const int64_t batch = x.dims[0], c = x.dims[1];
    const int64_t plane = batch * c != 0 ? x.numel() / (batch * c) : 0;
    RtTensor& y = io.allocOutput(0, x.dtype, x.dims);
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    const double scale = static_cast<double>(alpha_) / static_cast<double>(size_);
    withFloatTypes(x, y, [&](const auto* xp, auto* yp) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(xp)>>;
      const int64_t planes = batch * c;
      [[maybe_unused]] const bool big = x.numel() >= (1 << 15);
#pragma omp parallel if (big && planes > 1)
      {
        std::vector<T> sq(static_cast<size_t>(plane));
#pragma omp for schedule(static)
        for (int64_t p = 0; p < planes; ++p) {
          const int64_t n = p / c, ch = p % c;
          std::fill(sq.begin(), sq.end(), T(0));
          for (int64_t k = std::max<int64_t>(0, ch - before); k <= std::min(c - 1, ch + after); ++k) {
            const T* xs = xp + (n * c + k) * plane;
#pragma omp simd
            for (int64_t i = 0; i < plane; ++i) sq[static_cast<size_t>(i)] += xs[i] * xs[i];
          }
          const T* xs = xp + p * plane;
          T* ys = yp + p * plane;
          for (int64_t i = 0; i < plane; ++i)
            ys[i] = static_cast<T>(static_cast<double>(xs[i]) /
                                   std::pow(static_cast<double>(bias_) + scale * static_cast<double>(sq[static_cast<size_t>(i)]),
                                            static_cast<double>(beta_)));
        }
      }
    });
  }

 private:
  int64_t size_ = 1;
  float alpha_ = 1e-4f, beta_ = 0.75f, bias_ = 1.0f;
};

template <typename K>
KernelFactory factory() {
  return [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> { return std::make_unique<K>(ctx); };
}

}  // namespace

void registerNormalizationKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "BatchNormalization", 1, 1000, factory<BatchNormKernel>()});
  r.add(KernelEntry{"", "InstanceNormalization", 1, 1000, factory<InstanceNormKernel>()});
  r.add(KernelEntry{"", "LayerNormalization", 17, 1000, factory<LayerNormKernel>()});
  r.add(KernelEntry{"", "LpNormalization", 1, 1000, factory<LpNormKernel>()});
  r.add(KernelEntry{"", "MeanVarianceNormalization", 9, 1000, factory<MvnKernel>()});
  r.add(KernelEntry{"", "LRN", 1, 1000, factory<LrnKernel>()});
}

}  // namespace effdl::runtime
