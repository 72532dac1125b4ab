// Ops that compute or change a shape without moving data (Reshape, Flatten, Squeeze, Unsqueeze
// keep the buffer in place when the input dies here), and ops that make tensors from shapes or
// attributes: Shape, Size, Constant, ConstantOfShape, Range, EyeLike.
#include <cmath>
#include <cstring>
#include <optional>

#include "core/checked_math.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/shape_numeric.h"
#include "runtime/kernels/shape_util.h"

namespace effdl::runtime {
namespace {

using namespace shape_detail;

// Output 0 is input 0 under another shape: moved when the executor allows, copied otherwise.
void emitReshaped(KernelIo& io, const RtTensor& x, const Shape& dims) {
  if (checkedNumel(io, dims) != x.numel())
    throwRunError(io, "cannot give shape " + shapeString(dims) + " to an input of shape " + shapeString(x.dims));
  RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, dims);
  copyUnlessSame(y, x);
}

// ------------------------------------------------------------------------------------- Reshape
class ReshapeKernel : public Kernel {
 public:
  ReshapeKernel(std::optional<std::vector<int64_t>> attrShape, bool allowZero)
      : attrShape_(std::move(attrShape)), allowZero_(allowZero) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const std::vector<int64_t> shape = attrShape_ ? *attrShape_ : readInts(io, requireInput(io, 1), "shape");
    Shape dims(shape.size());
    int64_t known = 1;
    int inferred = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t v = shape[i];
      if (v == 0 && !allowZero_) {
        if (i >= x.rank())
          throwRunError(
              io, "shape entry " + std::to_string(i) + " is 0 but the input has rank " + std::to_string(x.rank()));
        v = x.dims[i];
      }
      if (v == -1) {
        if (inferred >= 0) throwRunError(io, "shape " + shapeString(shape) + " has more than one -1");
        inferred = static_cast<int>(i);
        continue;
      }
      if (v < 0) throwRunError(io, "shape " + shapeString(shape) + " has a negative entry");
      auto k = checkedMul(known, v);
      if (!k) throwRunError(io, "shape " + shapeString(shape) + " is too large");
      known = *k;
      dims[i] = v;
    }
    if (inferred >= 0) {
      const int64_t total = x.numel();
      if (known == 0 || total % known != 0)
        throwRunError(
            io, "cannot infer the -1 in shape " + shapeString(shape) + " for an input of shape " + shapeString(x.dims));
      dims[static_cast<size_t>(inferred)] = total / known;
    }
    emitReshaped(io, x, dims);
  }

 private:
  std::optional<std::vector<int64_t>> attrShape_;
  bool allowZero_;
};

std::unique_ptr<Kernel> makeReshape(const KernelBuildContext& ctx) {
  if (ctx.opset < 5) {
    if (!ctx.node.attr("shape")) ctx.invalid("the shape attribute is missing");
    return std::make_unique<ReshapeKernel>(ctx.node.attrInts("shape"), false);
  }
  return std::make_unique<ReshapeKernel>(std::nullopt, ctx.node.attrInt("allowzero", 0) != 0);
}

// ------------------------------------------------------------------------------------- Flatten
class FlattenKernel : public Kernel {
 public:
  explicit FlattenKernel(int64_t axis) : axis_(axis) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const int64_t r = static_cast<int64_t>(x.rank());
    int64_t axis = axis_ < 0 ? axis_ + r : axis_;
    if (axis < 0 || axis > r)
      throwRunError(io, "axis " + std::to_string(axis_) + " is out of range for rank " + std::to_string(r));
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x.dims[static_cast<size_t>(i)];
    const int64_t inner = outer == 0 ? 0 : x.numel() / outer;
    Shape dims{outer, inner};
    if (outer == 0) {  // 0 × anything: the inner product still has to be reported
      int64_t in = 1;
      for (int64_t i = axis; i < r; ++i) in *= x.dims[static_cast<size_t>(i)];
      dims[1] = in;
    }
    emitReshaped(io, x, dims);
  }

 private:
  int64_t axis_;
};

// ------------------------------------------------------------------------------ Squeeze/Unsqueeze
// Axes come from an attribute before opset 13 and from input 1 since.
std::vector<int64_t> axesOf(const KernelIo& io, const std::optional<std::vector<int64_t>>& attrAxes, bool* given) {
  if (attrAxes) {
    *given = true;
    return *attrAxes;
  }
  const RtTensor* a = optionalInput(io, 1);
  *given = a != nullptr;
  return a ? readInts(io, *a, "axes") : std::vector<int64_t>{};
}

class SqueezeKernel : public Kernel {
 public:
  explicit SqueezeKernel(std::optional<std::vector<int64_t>> axes) : axes_(std::move(axes)) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const int64_t r = static_cast<int64_t>(x.rank());
    bool given = false;
    const auto axes = axesOf(io, axes_, &given);
    std::vector<bool> drop(x.rank(), false);
    if (given && !axes.empty()) {  // an empty axes input squeezes every unit dim, as ONNX Runtime
      for (int64_t a : axes) {
        const int64_t ax = normalizeAxis(io, a, r, "axis");
        if (x.dims[static_cast<size_t>(ax)] != 1)
          throwRunError(io,
                        "cannot squeeze axis " + std::to_string(a) + " of shape " + shapeString(x.dims) + ": not 1");
        drop[static_cast<size_t>(ax)] = true;
      }
    } else {
      for (size_t i = 0; i < x.rank(); ++i) drop[i] = x.dims[i] == 1;
    }
    Shape dims;
    for (size_t i = 0; i < x.rank(); ++i)
      if (!drop[i]) dims.push_back(x.dims[i]);
    emitReshaped(io, x, dims);
  }

 private:
  std::optional<std::vector<int64_t>> axes_;
};

class UnsqueezeKernel : public Kernel {
 public:
  explicit UnsqueezeKernel(std::optional<std::vector<int64_t>> axes) : axes_(std::move(axes)) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    bool given = false;
    const auto axes = axesOf(io, axes_, &given);
    if (!given) throwRunError(io, "axes are missing");
    const int64_t outRank = static_cast<int64_t>(x.rank() + axes.size());
    std::vector<bool> isNew(static_cast<size_t>(outRank), false);
    for (int64_t a : axes) {
      const int64_t ax = normalizeAxis(io, a, outRank, "axis");
      if (isNew[static_cast<size_t>(ax)]) throwRunError(io, "axis " + std::to_string(a) + " is repeated");
      isNew[static_cast<size_t>(ax)] = true;
    }
    Shape dims(static_cast<size_t>(outRank));
    size_t k = 0;
    for (size_t i = 0; i < dims.size(); ++i) dims[i] = isNew[i] ? 1 : x.dims[k++];
    emitReshaped(io, x, dims);
  }

 private:
  std::optional<std::vector<int64_t>> axes_;
};

// Before opset 13 the axes are an attribute (absent: Squeeze drops every unit dim); since, input 1.
template <typename K>
std::unique_ptr<Kernel> makeSqueezeLike(const KernelBuildContext& ctx) {
  if (ctx.opset < 13 && ctx.node.attr("axes")) return std::make_unique<K>(ctx.node.attrInts("axes"));
  return std::make_unique<K>(std::nullopt);
}

std::unique_ptr<Kernel> makeUnsqueeze(const KernelBuildContext& ctx) {
  if (ctx.opset < 13 && !ctx.node.attr("axes")) ctx.invalid("the axes attribute is missing");
  return makeSqueezeLike<UnsqueezeKernel>(ctx);
}

// --------------------------------------------------------------------------------- Shape, Size
class ShapeKernel : public Kernel {
 public:
  ShapeKernel(int64_t start, std::optional<int64_t> end) : start_(start), end_(end) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const int64_t r = static_cast<int64_t>(x.rank());
    auto clampIndex = [r](int64_t v) { return std::clamp(v < 0 ? v + r : v, int64_t{0}, r); };
    const int64_t s = clampIndex(start_), e = end_ ? clampIndex(*end_) : r;
    const int64_t n = std::max<int64_t>(0, e - s);
    RtTensor& y = io.allocOutput(0, ir::DataType::kInt64, {n});
    for (int64_t i = 0; i < n; ++i) y.as<int64_t>()[i] = x.dims[static_cast<size_t>(s + i)];
  }

 private:
  int64_t start_;
  std::optional<int64_t> end_;
};

std::unique_ptr<Kernel> makeShape(const KernelBuildContext& ctx) {
  std::optional<int64_t> end;
  if (ctx.node.attr("end")) end = ctx.node.attrInt("end", 0);
  return std::make_unique<ShapeKernel>(ctx.node.attrInt("start", 0), end);
}

class SizeKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    io.allocOutput(0, ir::DataType::kInt64, {}).as<int64_t>()[0] = x.numel();
  }
};

// ------------------------------------------------------------------------------------ Constant
class ConstantKernel : public Kernel {
 public:
  explicit ConstantKernel(ir::Tensor t) : t_(std::move(t)) {}
  void run(KernelIo& io) override {
    if (t_.dtype() == ir::DataType::kString) return io.setOutputValue(0, RtValue{ValueKind::kTensor, viewOf(t_), nullptr});
    RtTensor& y = io.allocOutput(0, t_.dtype(), t_.dims());
    if (y.nbytes != t_.nbytes()) throwRunError(io, "the value's byte size does not match its shape");
    if (t_.nbytes()) std::memcpy(y.data, t_.data(), t_.nbytes());
  }

 private:
  ir::Tensor t_;
};

std::unique_ptr<Kernel> makeConstant(const KernelBuildContext& ctx) {
  const auto& attrs = ctx.node.attributes();
  if (attrs.size() != 1) ctx.invalid("needs exactly one value attribute");
  const ir::Attribute& a = attrs[0];
  if (a.name == "value" && a.type == ir::AttrType::kTensor) {
    if (a.t.dtype() != ir::DataType::kString && ir::dtypeSize(a.t.dtype()) == 0) ctx.unsupported("element type " + std::string(ir::dtypeName(a.t.dtype())));
    return std::make_unique<ConstantKernel>(a.t);
  }
  if (a.name == "value_float" && a.type == ir::AttrType::kFloat)
    return std::make_unique<ConstantKernel>(ir::Tensor::fromVector(ir::DataType::kFloat, {}, std::vector<float>{a.f}));
  if (a.name == "value_floats" && a.type == ir::AttrType::kFloats)
    return std::make_unique<ConstantKernel>(
        ir::Tensor::fromVector(ir::DataType::kFloat, {static_cast<int64_t>(a.floats.size())}, a.floats));
  if (a.name == "value_int" && a.type == ir::AttrType::kInt)
    return std::make_unique<ConstantKernel>(
        ir::Tensor::fromVector(ir::DataType::kInt64, {}, std::vector<int64_t>{a.i}));
  if (a.name == "value_ints" && a.type == ir::AttrType::kInts)
    return std::make_unique<ConstantKernel>(
        ir::Tensor::fromVector(ir::DataType::kInt64, {static_cast<int64_t>(a.ints.size())}, a.ints));
  if (a.name == "value_string" && a.type == ir::AttrType::kString)
    return std::make_unique<ConstantKernel>(ir::Tensor::fromStrings({}, {a.s}));
  if (a.name == "value_strings" && a.type == ir::AttrType::kStrings)
    return std::make_unique<ConstantKernel>(
        ir::Tensor::fromStrings({static_cast<int64_t>(a.strings.size())}, a.strings));
  if (a.name == "sparse_value") ctx.unsupported("sparse_value is not supported by effdl's runtime (densify it first)");
  ctx.invalid("unexpected attribute '" + a.name + "'");
}

// ----------------------------------------------------------------------------- ConstantOfShape
class ConstantOfShapeKernel : public Kernel {
 public:
  explicit ConstantOfShapeKernel(ir::Tensor value) : value_(std::move(value)) {}
  void run(KernelIo& io) override {
    const Shape dims = readInts(io, requireInput(io, 0), "shape");
    for (int64_t d : dims)
      if (d < 0) throwRunError(io, "shape " + shapeString(dims) + " has a negative entry");
    RtTensor& y = io.allocOutput(0, value_.dtype(), dims);
    fillElements(y.data, y.numel(), value_.data(), value_.nbytes());
  }

 private:
  ir::Tensor value_;
};

std::unique_ptr<Kernel> makeConstantOfShape(const KernelBuildContext& ctx) {
  const ir::Attribute* a = ctx.node.attr("value");
  if (!a)
    return std::make_unique<ConstantOfShapeKernel>(
        ir::Tensor::fromVector(ir::DataType::kFloat, {1}, std::vector<float>{0}));
  if (a->type != ir::AttrType::kTensor || a->t.numel() != 1) ctx.invalid("value must be a one-element tensor");
  if (ir::dtypeSize(a->t.dtype()) == 0 || a->t.nbytes() != ir::dtypeSize(a->t.dtype()))
    ctx.unsupported("value of type " + std::string(ir::dtypeName(a->t.dtype())));
  return std::make_unique<ConstantOfShapeKernel>(a->t);
}

// --------------------------------------------------------------------------------------- Range
class RangeKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor& start = requireInput(io, 0);
    const RtTensor& limit = requireInput(io, 1);
    const RtTensor& delta = requireInput(io, 2);
    if (start.dtype != limit.dtype || start.dtype != delta.dtype)
      throwRunError(io, "start, limit and delta must have the same type");
    for (const RtTensor* t : {&start, &limit, &delta})
      if (t->numel() != 1)
        throwRunError(io, "start, limit and delta must be scalars, got shape " + shapeString(t->dims));
    bool ok = dispatchNumeric(start.dtype, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
        throwRunError(io, "16-bit float Range is not supported");
      } else if constexpr (std::is_floating_point_v<T>) {
        const T s = start.as<T>()[0], l = limit.as<T>()[0], d = delta.as<T>()[0];
        const double n = std::ceil((static_cast<double>(l) - static_cast<double>(s)) / static_cast<double>(d));
        if (d == 0 || !std::isfinite(n)) throwRunError(io, "delta is zero or the range is not finite");
        if (n > 9.0e18) throwRunError(io, "the range has too many elements");
        const int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
        RtTensor& y = io.allocOutput(0, start.dtype, {count});
        // Repeated addition, as ONNX's function body and ONNX Runtime compute it.
        T v = s;
        for (int64_t i = 0; i < count; ++i, v += d) y.as<T>()[i] = v;
      } else {
        using W = __int128;
        const W s = start.as<T>()[0], l = limit.as<T>()[0], d = delta.as<T>()[0];
        if (d == 0) throwRunError(io, "delta is zero");
        W n = 0;
        if (d > 0 && l > s) n = (l - s + d - 1) / d;
        if (d < 0 && l < s) n = (s - l - d - 1) / -d;
        if (n > static_cast<W>(INT64_MAX)) throwRunError(io, "the range has too many elements");
        const int64_t count = static_cast<int64_t>(n);
        RtTensor& y = io.allocOutput(0, start.dtype, {count});
        for (int64_t i = 0; i < count; ++i) y.as<T>()[i] = static_cast<T>(s + static_cast<W>(i) * d);
      }
    });
    if (!ok) throwRunError(io, "unsupported type " + std::string(ir::dtypeName(start.dtype)));
  }
};

// ------------------------------------------------------------------------------------- EyeLike
// The bytes of the value 1 in `dt`; false for types without one (complex).
bool writeOne(ir::DataType dt, void* p) {
  return dispatchNumeric(
      dt,
      [&](auto tag) {
        using T = decltype(tag);
        const T one = Arith<T>::store(1);
        std::memcpy(p, &one, sizeof(T));
      },
      true);
}

class EyeLikeKernel : public Kernel {
 public:
  EyeLikeKernel(ir::DataType dtype, int64_t k) : dtype_(dtype), k_(k) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    if (x.rank() != 2) throwRunError(io, "input must be 2-D, got shape " + shapeString(x.dims));
    const ir::DataType dt = dtype_ == ir::DataType::kUndefined ? x.dtype : dtype_;
    const size_t es = ir::dtypeSize(dt);
    uint8_t one[16] = {};
    if (es == 0 || es > sizeof one || !writeOne(dt, one))
      throwRunError(io, "unsupported output type " + std::string(ir::dtypeName(dt)));
    RtTensor& y = io.allocOutput(0, dt, x.dims);
    if (y.nbytes) std::memset(y.data, 0, y.nbytes);
    const int64_t rows = x.dims[0], cols = x.dims[1];
    if (k_ >= cols || k_ <= -rows) return;  // no diagonal inside (and no overflow for a hostile k)
    for (int64_t i = std::max<int64_t>(0, -k_); i < rows && i + k_ < cols; ++i)
      std::memcpy(static_cast<uint8_t*>(y.data) + static_cast<size_t>(i * cols + i + k_) * es, one, es);
  }

 private:
  ir::DataType dtype_;
  int64_t k_;
};

std::unique_ptr<Kernel> makeEyeLike(const KernelBuildContext& ctx) {
  ir::DataType dt = ir::DataType::kUndefined;
  if (ctx.node.attr("dtype")) {
    const int64_t v = ctx.node.attrInt("dtype", 0);
    if (v < 0 || v > INT32_MAX || !ir::isKnownDtype(static_cast<int32_t>(v)))
      ctx.invalid("unknown dtype " + std::to_string(v));
    dt = static_cast<ir::DataType>(v);
    if (ir::dtypeSize(dt) == 0 || dt == ir::DataType::kComplex64 || dt == ir::DataType::kComplex128)
      ctx.unsupported("output type " + std::string(ir::dtypeName(dt)));
  }
  return std::make_unique<EyeLikeKernel>(dt, ctx.node.attrInt("k", 0));
}

}  // namespace

void registerShapeKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Reshape", 1, 1000, makeReshape});
  r.add(KernelEntry{"", "Flatten", 1, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<FlattenKernel>(ctx.node.attrInt("axis", 1));
                    }});
  r.add(KernelEntry{"", "Squeeze", 1, 1000, makeSqueezeLike<SqueezeKernel>});
  r.add(KernelEntry{"", "Unsqueeze", 1, 1000, makeUnsqueeze});
  r.add(KernelEntry{"", "Shape", 1, 1000, makeShape});
  r.add(KernelEntry{"", "Size", 1, 1000, [](const KernelBuildContext&) -> std::unique_ptr<Kernel> {
                      return std::make_unique<SizeKernel>();
                    }});
  r.add(KernelEntry{"", "Constant", 1, 1000, makeConstant});
  r.add(KernelEntry{"", "ConstantOfShape", 9, 1000, makeConstantOfShape});
  r.add(KernelEntry{"", "Range", 11, 1000, [](const KernelBuildContext&) -> std::unique_ptr<Kernel> {
                      return std::make_unique<RangeKernel>();
                    }});
  r.add(KernelEntry{"", "EyeLike", 9, 1000, makeEyeLike});
}

}  // namespace effdl::runtime
