// Ops that move elements to new places without looking at them: Transpose, Concat, Split, Slice,
// Expand, Tile, Pad, DepthToSpace, SpaceToDepth, Trilu, ReverseSequence. They work on bytes by
// element size, so every dtype the runtime holds goes through the same code.
#include <algorithm>
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

// ----------------------------------------------------------------------------------- Transpose
class TransposeKernel : public Kernel {
 public:
  explicit TransposeKernel(std::vector<int64_t> perm) : perm_(std::move(perm)) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t r = x.rank();
    std::vector<int64_t> perm = perm_;
    if (perm.empty())
      for (size_t i = 0; i < r; ++i) perm.push_back(static_cast<int64_t>(r - 1 - i));
    if (perm.size() != r)
      throwRunError(io,
                    "perm has " + std::to_string(perm.size()) + " entries for an input of rank " + std::to_string(r));
    std::vector<bool> seen(r, false);
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(r) || seen[static_cast<size_t>(p)])
        throwRunError(io, "perm " + shapeString(perm) + " is not a permutation of the input's axes");
      seen[static_cast<size_t>(p)] = true;
    }
    Shape dims(r);
    for (size_t k = 0; k < r; ++k) dims[k] = x.dims[static_cast<size_t>(perm[k])];
    // When the non-unit axes keep their order the bytes do not move: a reshape.
    int64_t last = -1;
    bool inOrder = true;
    for (int64_t p : perm) {
      if (x.dims[static_cast<size_t>(p)] == 1) continue;
      inOrder = inOrder && p > last;
      last = p;
    }
    if (inOrder) {
      RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, dims);
      copyUnlessSame(y, x);
      return;
    }
    RtTensor& y = io.allocOutput(0, x.dtype, dims);
    transposeCopy(y.data, x.data, x.dims, perm, elementSize(io, x));
  }

 private:
  std::vector<int64_t> perm_;
};

// -------------------------------------------------------------------------------------- Concat
class ConcatKernel : public Kernel {
 public:
  explicit ConcatKernel(int64_t axis) : axis_(axis) {}
  void run(KernelIo& io) override {
    const RtTensor& x0 = requireInput(io, 0);
    const size_t r = x0.rank();
    if (r == 0) throwRunError(io, "cannot concatenate scalars");
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, static_cast<int64_t>(r), "axis"));
    Shape dims = x0.dims;
    dims[axis] = 0;
    std::vector<const RtTensor*> ins;
    for (size_t i = 0; i < io.numInputs(); ++i) {
      const RtTensor& x = requireInput(io, i);
      if (x.dtype != x0.dtype) throwRunError(io, "inputs have different types");
      if (x.rank() != r)
        throwRunError(io, "input " + std::to_string(i) + " has shape " + shapeString(x.dims) + ", input 0 " +
                              shapeString(x0.dims));
      for (size_t k = 0; k < r; ++k)
        if (k != axis && x.dims[k] != x0.dims[k])
          throwRunError(io, "input " + std::to_string(i) + " has shape " + shapeString(x.dims) + ", input 0 " +
                                shapeString(x0.dims));
      auto sum = checkedAdd(dims[axis], x.dims[axis]);
      if (!sum) throwRunError(io, "the output is too large");
      dims[axis] = *sum;
      ins.push_back(&x);
    }
    RtTensor& y = io.allocOutput(0, x0.dtype, dims);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, x0);
    const int64_t outer = product(dims, 0, axis), inner = product(dims, axis + 1, r);
    uint8_t* out = bytesOf(y);
    for (int64_t o = 0; o < outer; ++o) {
      for (const RtTensor* x : ins) {
        const size_t block = static_cast<size_t>(x->dims[axis] * inner) * es;
        if (block) std::memcpy(out, bytesOf(*x) + static_cast<size_t>(o) * block, block);
        out += block;
      }
    }
  }

 private:
  int64_t axis_;
};

std::unique_ptr<Kernel> makeConcat(const KernelBuildContext& ctx) {
  if (ctx.opset >= 4 && !ctx.node.attr("axis")) ctx.invalid("the axis attribute is missing");
  return std::make_unique<ConcatKernel>(ctx.node.attrInt("axis", 1));
}

// --------------------------------------------------------------------------------------- Split
class SplitKernel : public Kernel {
 public:
  SplitKernel(int64_t axis, std::optional<std::vector<int64_t>> split, int splitInput)
      : axis_(axis), split_(std::move(split)), splitInput_(splitInput) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t r = x.rank();
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, static_cast<int64_t>(r), "axis"));
    const int64_t dim = x.dims[axis];
    const size_t n = io.numOutputs();
    std::vector<int64_t> sizes;
    const RtTensor* s = splitInput_ >= 0 ? optionalInput(io, static_cast<size_t>(splitInput_)) : nullptr;
    if (split_)
      sizes = *split_;
    else if (s)
      sizes = readInts(io, *s, "split");
    if (!sizes.empty() || s) {
      if (sizes.size() != n)
        throwRunError(io,
                      "split has " + std::to_string(sizes.size()) + " entries for " + std::to_string(n) + " outputs");
      int64_t sum = 0;
      for (int64_t v : sizes) {
        auto t = v < 0 ? std::nullopt : checkedAdd(sum, v);
        if (!t) throwRunError(io, "split " + shapeString(sizes) + " has a negative or too large entry");
        sum = *t;
      }
      if (sum != dim)
        throwRunError(io, "split " + shapeString(sizes) + " does not add up to dim " + std::to_string(dim));
    } else {
      if (n == 0 || dim % static_cast<int64_t>(n) != 0)
        throwRunError(io, "dim " + std::to_string(dim) + " cannot be split into " + std::to_string(n) + " equal parts");
      sizes.assign(n, dim / static_cast<int64_t>(n));
    }
    const size_t es = elementSize(io, x);
    const int64_t outer = product(x.dims, 0, axis), inner = product(x.dims, axis + 1, r);
    const size_t inRow = static_cast<size_t>(dim * inner) * es;
    size_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t block = static_cast<size_t>(sizes[i] * inner) * es;
      if (io.hasOutput(i)) {
        Shape dims = x.dims;
        dims[axis] = sizes[i];
        RtTensor& y = io.allocOutput(i, x.dtype, dims);
        if (block)
          for (int64_t o = 0; o < outer; ++o)
            std::memcpy(bytesOf(y) + static_cast<size_t>(o) * block,
                        bytesOf(x) + static_cast<size_t>(o) * inRow + offset, block);
      }
      offset += block;
    }
  }

 private:
  int64_t axis_;
  std::optional<std::vector<int64_t>> split_;
  int splitInput_;  // input holding the sizes, or -1
};

std::unique_ptr<Kernel> makeSplit(const KernelBuildContext& ctx) {
  if (ctx.node.attr("num_outputs")) ctx.unsupported("the num_outputs attribute (opset 18) is not supported");
  const int64_t axis = ctx.node.attrInt("axis", 0);
  if (ctx.opset < 13) {
    std::optional<std::vector<int64_t>> split;
    if (ctx.node.attr("split")) split = ctx.node.attrInts("split");
    return std::make_unique<SplitKernel>(axis, split, ctx.opset < 2 ? 1 : -1);  // Split-1 also took an input
  }
  return std::make_unique<SplitKernel>(axis, std::nullopt, 1);
}

// --------------------------------------------------------------------------------------- Slice
class SliceKernel : public Kernel {
 public:
  // Before opset 10 starts/ends/axes are attributes (no steps).
  struct Attrs {
    std::vector<int64_t> starts, ends, axes;
    bool hasAxes = false;
  };
  explicit SliceKernel(std::optional<Attrs> attrs) : attrs_(std::move(attrs)) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const int64_t r = static_cast<int64_t>(x.rank());
    std::vector<int64_t> starts, ends, axes, steps;
    bool hasAxes = false, hasSteps = false;
    if (attrs_) {
      starts = attrs_->starts;
      ends = attrs_->ends;
      axes = attrs_->axes;
      hasAxes = attrs_->hasAxes;
    } else {
      starts = readInts(io, requireInput(io, 1), "starts");
      ends = readInts(io, requireInput(io, 2), "ends");
      if (const RtTensor* a = optionalInput(io, 3)) axes = readInts(io, *a, "axes"), hasAxes = true;
      if (const RtTensor* s = optionalInput(io, 4)) steps = readInts(io, *s, "steps"), hasSteps = true;
    }
    const size_t n = starts.size();
    if (ends.size() != n || (hasAxes && axes.size() != n) || (hasSteps && steps.size() != n))
      throwRunError(io, "starts, ends, axes and steps must have the same length");
    if (!hasAxes)
      for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
    if (!hasSteps) steps.assign(n, 1);

    const auto inStrides = contiguousStrides(x.dims);
    Shape dims = x.dims;
    std::vector<int64_t> strides = inStrides;
    std::vector<bool> seen(static_cast<size_t>(r), false);
    int64_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t ax = static_cast<size_t>(normalizeAxis(io, axes[i], r, "axis"));
      if (seen[ax]) throwRunError(io, "axis " + std::to_string(axes[i]) + " is repeated");
      seen[ax] = true;
      const int64_t step = steps[i], d = x.dims[ax];
      if (step == 0) throwRunError(io, "step is 0");
      int64_t s = starts[i], e = ends[i], len = 0;
      if (s < 0) s += d;  // cannot overflow: s < 0 <= d
      if (e < 0) e += d;
      if (step > 0) {
        s = std::clamp(s, int64_t{0}, d);
        e = std::clamp(e, int64_t{0}, d);
        len = e > s ? (e - s - 1) / step + 1 : 0;
      } else if (d > 0) {
        s = std::clamp(s, int64_t{0}, d - 1);
        e = std::clamp(e, int64_t{-1}, d - 1);
        const int64_t stepAbs = step == INT64_MIN ? INT64_MAX : -step;
        len = s > e ? (s - e - 1) / stepAbs + 1 : 0;
      }
      dims[ax] = len;
      if (len > 0) offset += s * inStrides[ax];
      // With one element the step never applies (and step * stride could overflow).
      strides[ax] = len > 1 ? step * inStrides[ax] : 0;
    }
    RtTensor& y = io.allocOutput(0, x.dtype, dims);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, x);
    stridedCopy(y.data, bytesOf(x) + offset * static_cast<int64_t>(es), dims, strides, es);
  }

 private:
  std::optional<Attrs> attrs_;
};

std::unique_ptr<Kernel> makeSlice(const KernelBuildContext& ctx) {
  if (ctx.opset >= 10) return std::make_unique<SliceKernel>(std::nullopt);
  SliceKernel::Attrs a;
  if (!ctx.node.attr("starts") || !ctx.node.attr("ends")) ctx.invalid("the starts and ends attributes are required");
  a.starts = ctx.node.attrInts("starts");
  a.ends = ctx.node.attrInts("ends");
  a.hasAxes = ctx.node.attr("axes") != nullptr;
  a.axes = ctx.node.attrInts("axes");
  return std::make_unique<SliceKernel>(std::move(a));
}

// -------------------------------------------------------------------------------------- Expand
// Numpy broadcasting of two shapes, or a run error.
Shape broadcastShapes(const KernelIo& io, const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (db < 0) throwRunError(io, "shape " + shapeString(b) + " has a negative entry");
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      throwRunError(io, "cannot broadcast shape " + shapeString(a) + " to " + shapeString(b));
  }
  return out;
}

class ExpandKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const Shape shape = readInts(io, requireInput(io, 1), "shape");
    const Shape dims = broadcastShapes(io, x.dims, shape);
    if (dims == x.dims) {
      RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, dims);
      copyUnlessSame(y, x);
      return;
    }
    RtTensor& y = io.allocOutput(0, x.dtype, dims);
    if (y.nbytes == 0) return;
    const auto inStrides = contiguousStrides(x.dims);
    std::vector<int64_t> strides(dims.size(), 0);
    const size_t lead = dims.size() - x.rank();
    for (size_t k = 0; k < x.rank(); ++k) strides[lead + k] = x.dims[k] == 1 ? 0 : inStrides[k];
    stridedCopy(y.data, x.data, dims, strides, elementSize(io, x));
  }
};

// ---------------------------------------------------------------------------------------- Tile
class TileKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const auto repeats = readInts(io, requireInput(io, 1), "repeats");
    const size_t r = x.rank();
    if (repeats.size() != r)
      throwRunError(
          io, "repeats has " + std::to_string(repeats.size()) + " entries for an input of rank " + std::to_string(r));
    Shape dims(r);
    for (size_t k = 0; k < r; ++k) {
      auto d = repeats[k] < 0 ? std::nullopt : checkedMul(x.dims[k], repeats[k]);
      if (!d) throwRunError(io, "repeats " + shapeString(repeats) + " has a negative or too large entry");
      dims[k] = *d;
    }
    RtTensor& y = io.allocOutput(0, x.dtype, dims);
    if (y.nbytes == 0) return;
    // The output seen as [rep0, d0, rep1, d1, ...] is x broadcast along the rep axes.
    const auto inStrides = contiguousStrides(x.dims);
    Shape view;
    std::vector<int64_t> strides;
    for (size_t k = 0; k < r; ++k) {
      view.push_back(repeats[k]);
      strides.push_back(0);
      view.push_back(x.dims[k]);
      strides.push_back(inStrides[k]);
    }
    stridedCopy(y.data, x.data, view, strides, elementSize(io, x));
  }
};

// ----------------------------------------------------------------------------------------- Pad
enum class PadMode { kConstant, kReflect, kEdge };

class PadKernel : public Kernel {
 public:
  // Before opset 11 the pads and the value are attributes.
  PadKernel(PadMode mode, std::optional<std::vector<int64_t>> pads, double value)
      : mode_(mode), pads_(std::move(pads)), value_(value) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t r = x.rank();
    const std::vector<int64_t> pads = pads_ ? *pads_ : readInts(io, requireInput(io, 1), "pads");
    if (pads.size() != 2 * r)
      throwRunError(io,
                    "pads has " + std::to_string(pads.size()) + " entries for an input of rank " + std::to_string(r));
    Shape dims(r);
    for (size_t k = 0; k < r; ++k) {
      auto d = checkedAdd(x.dims[k], pads[k]);
      if (d) d = checkedAdd(*d, pads[k + r]);
      if (!d || *d < 0)
        throwRunError(io, "pads " + shapeString(pads) + " give an invalid shape for input " + shapeString(x.dims));
      dims[k] = *d;
      if (mode_ != PadMode::kConstant && x.dims[k] == 0 && dims[k] > 0)
        throwRunError(io, "cannot pad an empty axis in reflect or edge mode");
    }
    const size_t es = elementSize(io, x);
    uint8_t value[16] = {};
    if (es > sizeof value) throwRunError(io, "unsupported element type");
    if (mode_ == PadMode::kConstant) constantValue(io, x, value);
    RtTensor& y = io.allocOutput(0, x.dtype, dims);
    if (y.nbytes == 0) return;
    if (r == 0) {
      std::memcpy(y.data, x.data, es);
      return;
    }
    const auto inStrides = contiguousStrides(x.dims);
    const int64_t rowLen = dims[r - 1];
    const int64_t lastPad = pads[r - 1], lastDim = x.dims[r - 1];
    const uint8_t* in = bytesOf(x);
    uint8_t* out = bytesOf(y);
    std::vector<int64_t> idx(r - 1, 0);
    for (;;) {
      int64_t src = 0;
      bool constantRow = false;
      for (size_t k = 0; k + 1 < r; ++k) {
        // Source indices come from sourceIndex() as needed: a table per axis could outgrow the output.
        const int64_t m = sourceIndex(idx[k] - pads[k], x.dims[k]);
        if (m < 0)
          constantRow = true;
        else
          src += m * inStrides[k];
      }
      if (constantRow) {
        fillElements(out, rowLen, value, es);
      } else {
        // Runs of consecutive source indices are one memcpy each.
        int64_t j = 0;
        while (j < rowLen) {
          const int64_t m = sourceIndex(j - lastPad, lastDim);
          int64_t e = j + 1;
          if (m < 0) {
            while (e < rowLen && sourceIndex(e - lastPad, lastDim) < 0) ++e;
            fillElements(out + j * static_cast<int64_t>(es), e - j, value, es);
          } else {
            while (e < rowLen && sourceIndex(e - lastPad, lastDim) == m + (e - j)) ++e;
            std::memcpy(out + j * static_cast<int64_t>(es), in + (src + m) * static_cast<int64_t>(es),
                        static_cast<size_t>(e - j) * es);
          }
          j = e;
        }
      }
      out += rowLen * static_cast<int64_t>(es);
      size_t k = r - 1;
      while (k > 0) {
        --k;
        if (++idx[k] < dims[k]) break;
        idx[k] = 0;
        if (k == 0) return;
      }
      if (r == 1) return;
    }
  }

 private:
  int64_t sourceIndex(int64_t c, int64_t d) const {
    if (c >= 0 && c < d) return c;
    switch (mode_) {
      case PadMode::kConstant:
        return -1;
      case PadMode::kEdge:
        return c < 0 ? 0 : d - 1;
      case PadMode::kReflect: {
        if (d == 1) return 0;
        const int64_t period = 2 * (d - 1);  // reflection without repeating the edge, as numpy
        int64_t m = c % period;
        if (m < 0) m += period;
        return m < d ? m : period - m;
      }
    }
    return -1;
  }
  void constantValue(const KernelIo& io, const RtTensor& x, uint8_t* value) const {
    const RtTensor* v = pads_ ? nullptr : optionalInput(io, 2);
    if (v) {
      if (v->dtype != x.dtype || v->numel() != 1)
        throwRunError(io, "constant_value must be one element of the input's type");
      std::memcpy(value, v->data, ir::dtypeSize(x.dtype));
      return;
    }
    const bool ok = dispatchNumeric(
        x.dtype,
        [&](auto tag) {
          using T = decltype(tag);
          const T t = fromDouble<T>(value_);
          std::memcpy(value, &t, sizeof(T));
        },
        true);
    if (!ok && value_ != 0) throwRunError(io, "a pad value for type " + std::string(ir::dtypeName(x.dtype)));
  }

  PadMode mode_;
  std::optional<std::vector<int64_t>> pads_;
  double value_;
};

std::unique_ptr<Kernel> makePad(const KernelBuildContext& ctx) {
  const std::string mode = ctx.node.attrString("mode", "constant");
  PadMode m;
  if (mode == "constant")
    m = PadMode::kConstant;
  else if (mode == "reflect")
    m = PadMode::kReflect;
  else if (mode == "edge")
    m = PadMode::kEdge;
  else
    ctx.unsupported("mode '" + mode + "'");
  if (ctx.opset >= 11) {
    if (ctx.numInputs() > 3 && ctx.input(3)) ctx.unsupported("the axes input (opset 18) is not supported");
    return std::make_unique<PadKernel>(m, std::nullopt, 0.0);
  }
  const char* name = ctx.opset < 2 ? "paddings" : "pads";
  if (!ctx.node.attr(name)) ctx.invalid(std::string("the ") + name + " attribute is missing");
  return std::make_unique<PadKernel>(m, ctx.node.attrInts(name), ctx.node.attrFloat("value", 0.f));
}

// ------------------------------------------------------------------------ DepthToSpace, SpaceToDepth
// Both are a reshape to 6-D, a transpose and a reshape back.
class DepthToSpaceKernel : public Kernel {
 public:
  DepthToSpaceKernel(int64_t block, bool crd, bool toSpace) : block_(block), crd_(crd), toSpace_(toSpace) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    if (x.rank() != 4) throwRunError(io, "input must be 4-D, got shape " + shapeString(x.dims));
    const int64_t n = x.dims[0], c = x.dims[1], h = x.dims[2], w = x.dims[3], b = block_;
    auto bb = checkedMul(b, b);
    Shape view, out;
    std::vector<int64_t> perm;
    if (toSpace_) {
      if (!bb || c % *bb != 0) throwRunError(io, "channels " + std::to_string(c) + " are not a multiple of blocksize²");
      const int64_t cc = c / *bb;
      auto hb = checkedMul(h, b), wb = checkedMul(w, b);
      if (!hb || !wb) throwRunError(io, "the output is too large");
      if (crd_)
        view = {n, cc, b, b, h, w}, perm = {0, 1, 4, 2, 5, 3};
      else
        view = {n, b, b, cc, h, w}, perm = {0, 3, 4, 1, 5, 2};
      out = {n, cc, *hb, *wb};
    } else {
      if (h % b != 0 || w % b != 0) throwRunError(io, "height and width must be multiples of blocksize");
      if (!bb || !checkedMul(c, *bb)) throwRunError(io, "the output is too large");
      view = {n, c, h / b, b, w / b, b};
      perm = {0, 3, 5, 1, 2, 4};
      out = {n, c * *bb, h / b, w / b};
    }
    RtTensor& y = io.allocOutput(0, x.dtype, out);
    if (y.nbytes) transposeCopy(y.data, x.data, view, perm, elementSize(io, x));
  }

 private:
  int64_t block_;
  bool crd_, toSpace_;
};

std::unique_ptr<Kernel> makeDepthToSpace(const KernelBuildContext& ctx) {
  const int64_t b = ctx.node.attrInt("blocksize", 0);
  if (b <= 0) ctx.invalid("blocksize must be positive");
  const std::string mode = ctx.node.attrString("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") ctx.invalid("mode '" + mode + "'");
  return std::make_unique<DepthToSpaceKernel>(b, mode == "CRD", true);
}

std::unique_ptr<Kernel> makeSpaceToDepth(const KernelBuildContext& ctx) {
  const int64_t b = ctx.node.attrInt("blocksize", 0);
  if (b <= 0) ctx.invalid("blocksize must be positive");
  return std::make_unique<DepthToSpaceKernel>(b, false, false);
}

// --------------------------------------------------------------------------------------- Trilu
class TriluKernel : public Kernel {
 public:
  explicit TriluKernel(bool upper) : upper_(upper) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    if (x.rank() < 2) throwRunError(io, "input must have rank >= 2, got shape " + shapeString(x.dims));
    int64_t k = 0;
    if (const RtTensor* kt = optionalInput(io, 1)) k = readScalarInt(io, *kt, "k");
    RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, x.dims);
    copyUnlessSame(y, x);
    const int64_t rows = x.dims[x.rank() - 2], cols = x.dims[x.rank() - 1];
    if (y.nbytes == 0) return;
    k = std::clamp(k, -rows - 1, cols + 1);  // same result, and i + k cannot overflow
    const size_t es = elementSize(io, x);
    const int64_t matrices = x.numel() / (rows * cols);
    uint8_t* p = bytesOf(y);
    for (int64_t m = 0; m < matrices; ++m) {
      for (int64_t i = 0; i < rows; ++i) {
        uint8_t* row = p + static_cast<size_t>((m * rows + i) * cols) * es;
        // upper keeps j >= i + k; lower keeps j <= i + k.
        const int64_t lo = upper_ ? 0 : std::clamp(i + k + 1, int64_t{0}, cols);
        const int64_t hi = upper_ ? std::clamp(i + k, int64_t{0}, cols) : cols;
        if (hi > lo) std::memset(row + lo * static_cast<int64_t>(es), 0, static_cast<size_t>(hi - lo) * es);
      }
    }
  }

 private:
  bool upper_;
};

// ----------------------------------------------------------------------------- ReverseSequence
class ReverseSequenceKernel : public Kernel {
 public:
  ReverseSequenceKernel(int64_t batchAxis, int64_t timeAxis) : batchAxis_(batchAxis), timeAxis_(timeAxis) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    if (x.rank() < 2) throwRunError(io, "input must have rank >= 2, got shape " + shapeString(x.dims));
    const auto lens = readInts(io, requireInput(io, 1), "sequence_lens");
    const size_t ba = static_cast<size_t>(batchAxis_), ta = static_cast<size_t>(timeAxis_);
    const int64_t batch = x.dims[ba], time = x.dims[ta];
    if (static_cast<int64_t>(lens.size()) != batch)
      throwRunError(io,
                    "sequence_lens has " + std::to_string(lens.size()) + " entries for batch " + std::to_string(batch));
    for (int64_t l : lens)
      if (l < 0 || l > time)
        throwRunError(io, "sequence length " + std::to_string(l) + " is outside [0, " + std::to_string(time) + "]");
    RtTensor& y = io.allocOutput(0, x.dtype, x.dims);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, x);
    const auto st = contiguousStrides(x.dims);
    const size_t block = static_cast<size_t>(product(x.dims, 2, x.rank())) * es;
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t len = lens[static_cast<size_t>(b)];
      for (int64_t t = 0; t < time; ++t) {
        const int64_t src = t < len ? len - 1 - t : t;
        const size_t o = static_cast<size_t>(t * st[ta] + b * st[ba]) * es;
        const size_t i = static_cast<size_t>(src * st[ta] + b * st[ba]) * es;
        std::memcpy(bytesOf(y) + o, bytesOf(x) + i, block);
      }
    }
  }

 private:
  int64_t batchAxis_, timeAxis_;
};

std::unique_ptr<Kernel> makeReverseSequence(const KernelBuildContext& ctx) {
  const int64_t b = ctx.node.attrInt("batch_axis", 1), t = ctx.node.attrInt("time_axis", 0);
  if (!((b == 0 && t == 1) || (b == 1 && t == 0))) ctx.invalid("batch_axis and time_axis must be 0 and 1");
  return std::make_unique<ReverseSequenceKernel>(b, t);
}

template <typename K>
std::unique_ptr<Kernel> makeSimple(const KernelBuildContext&) {
  return std::make_unique<K>();
}

}  // namespace

void registerLayoutKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Transpose", 1, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<TransposeKernel>(ctx.node.attrInts("perm"));
                    }});
  r.add(KernelEntry{"", "Concat", 1, 1000, makeConcat});
  r.add(KernelEntry{"", "Split", 1, 1000, makeSplit});
  r.add(KernelEntry{"", "Slice", 1, 1000, makeSlice});
  r.add(KernelEntry{"", "Expand", 8, 1000, makeSimple<ExpandKernel>});
  r.add(KernelEntry{"", "Tile", 6, 1000, makeSimple<TileKernel>});
  r.add(KernelEntry{"", "Pad", 1, 1000, makePad});
  r.add(KernelEntry{"", "DepthToSpace", 1, 1000, makeDepthToSpace});
  r.add(KernelEntry{"", "SpaceToDepth", 1, 1000, makeSpaceToDepth});
  r.add(KernelEntry{"", "Trilu", 14, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<TriluKernel>(ctx.node.attrInt("upper", 1) != 0);
                    }});
  r.add(KernelEntry{"", "ReverseSequence", 10, 1000, makeReverseSequence});
}

}  // namespace effdl::runtime
