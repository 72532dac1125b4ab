// Sequence ops: SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceAt, SequenceErase,
// SequenceLength, SplitToSequence, ConcatFromSequence. A sequence is immutable once built
// (runtime/rt_value.h): a kernel that changes one builds a new one, sharing the items (ir::Tensor
// copies share their bytes), so no item is copied twice.
#include <cstring>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/shape_util.h"

namespace effdl::runtime {
namespace {

using namespace shape_detail;

const Sequence& requireSequence(const KernelIo& io, const RtValue& v, size_t i) {
  if (v.kind != ValueKind::kSequence || !v.seq)
    throwRunError(io, "input " + std::to_string(i) + " must be a sequence, got a " + kindName(v.kind));
  return *v.seq;
}

void setSequence(KernelIo& io, size_t i, std::shared_ptr<const Sequence> s) {
  io.setOutputValue(i, RtValue{ValueKind::kSequence, {}, std::move(s)});
}

// A tensor's dtype must match the sequence's element type (an empty SequenceEmpty-made sequence
// has one from its attribute; an untyped empty one takes the first item's).
void checkElemType(const KernelIo& io, const Sequence& s, ir::DataType t) {
  if (s.elemType != ir::DataType::kUndefined && s.elemType != t)
    throwRunError(io, "tensor of type " + std::string(ir::dtypeName(t)) + " does not match the sequence's " +
                          std::string(ir::dtypeName(s.elemType)));
}

// position in [-n, n + extra) → [0, n + extra), or a run error.
size_t position(const KernelIo& io, const RtTensor* p, int64_t n, int64_t extra, int64_t dflt) {
  int64_t pos = p ? readScalarInt(io, *p, "position") : dflt;
  if (pos < -n || pos >= n + extra)
    throwRunError(io, "position " + std::to_string(pos) + " is out of range for a sequence of " + std::to_string(n));
  return static_cast<size_t>(pos < 0 ? pos + n : pos);
}

const RtTensor* positionInput(const KernelIo& io, size_t i) {
  if (i >= io.numInputs()) return nullptr;
  RtValue v = io.inputValue(i);
  if (v.kind == ValueKind::kNone) return nullptr;
  return io.input(i);
}

class SequenceEmptyKernel : public Kernel {
 public:
  explicit SequenceEmptyKernel(const KernelBuildContext& ctx) {
    auto s = std::make_shared<Sequence>();
    s->elemType = static_cast<ir::DataType>(ctx.node.attrInt("dtype", static_cast<int64_t>(ir::DataType::kFloat)));
    if (!ir::isKnownDtype(static_cast<int32_t>(s->elemType))) ctx.invalid("dtype is not an ONNX tensor type");
    empty_ = std::move(s);
  }
  void run(KernelIo& io) override { setSequence(io, 0, empty_); }

 private:
  std::shared_ptr<const Sequence> empty_;
};

class SequenceConstructKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    auto s = std::make_shared<Sequence>();
    for (size_t i = 0; i < io.numInputs(); ++i) {
      const RtTensor& t = requireInput(io, i);
      if (i == 0) s->elemType = t.dtype;
      checkElemType(io, *s, t.dtype);
      s->items.push_back(ownedCopy(t));
    }
    if (s->items.empty()) throwRunError(io, "SequenceConstruct needs at least one input");
    setSequence(io, 0, std::move(s));
  }
};

class SequenceInsertKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const Sequence& in = requireSequence(io, io.inputValue(0), 0);
    const RtTensor& t = requireInput(io, 1);
    checkElemType(io, in, t.dtype);
    const int64_t n = static_cast<int64_t>(in.items.size());
    const size_t at = position(io, positionInput(io, 2), n, 1, n);
    auto s = std::make_shared<Sequence>(in);
    s->elemType = t.dtype;
    s->items.insert(s->items.begin() + static_cast<std::ptrdiff_t>(at), ownedCopy(t));
    setSequence(io, 0, std::move(s));
  }
};

class SequenceAtKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const Sequence& in = requireSequence(io, io.inputValue(0), 0);
    const size_t at = position(io, &requireInput(io, 1), static_cast<int64_t>(in.items.size()), 0, 0);
    io.setOutputValue(0, RtValue{ValueKind::kTensor, viewOf(in.items[at]), nullptr});
  }
};

class SequenceEraseKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const Sequence& in = requireSequence(io, io.inputValue(0), 0);
    const int64_t n = static_cast<int64_t>(in.items.size());
    if (n == 0) throwRunError(io, "cannot erase from an empty sequence");
    const size_t at = position(io, positionInput(io, 1), n, 0, n - 1);
    auto s = std::make_shared<Sequence>(in);
    s->items.erase(s->items.begin() + static_cast<std::ptrdiff_t>(at));
    setSequence(io, 0, std::move(s));
  }
};

class SequenceLengthKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const Sequence& in = requireSequence(io, io.inputValue(0), 0);
    RtTensor& y = io.allocOutput(0, ir::DataType::kInt64, {});
    *y.as<int64_t>() = static_cast<int64_t>(in.items.size());
  }
};

// SplitToSequence: without `split`, pieces of length 1 (the axis dropped unless keepdims); a scalar
// split gives pieces of that length (the last may be shorter); a 1-D split lists the lengths.
class SplitToSequenceKernel : public Kernel {
 public:
  explicit SplitToSequenceKernel(const KernelBuildContext& ctx)
      : axis_(ctx.node.attrInt("axis", 0)), keepdims_(ctx.node.attrInt("keepdims", 1) != 0) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t esize = elementSize(io, x);
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = normalizeAxis(io, axis_, rank, "axis");
    const int64_t len = x.dims[static_cast<size_t>(axis)];
    std::vector<int64_t> lengths;
    bool keep = true;
    const RtTensor* split = optionalInput(io, 1);
    if (!split) {
      lengths.assign(static_cast<size_t>(len), 1);
      keep = keepdims_;
    } else if (split->rank() == 0) {
      const int64_t k = readScalarInt(io, *split, "split");
      if (k <= 0) throwRunError(io, "a scalar split must be positive");
      for (int64_t at = 0; at < len; at += k) lengths.push_back(std::min(k, len - at));
    } else {
      lengths = readInts(io, *split, "split");
      int64_t sum = 0;
      for (int64_t l : lengths) {
        if (l < 0) throwRunError(io, "split has a negative length");
        sum += l;
      }
      if (sum != len) throwRunError(io, "split lengths sum to " + std::to_string(sum) + ", not the axis length " + std::to_string(len));
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dims[static_cast<size_t>(d)];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= x.dims[static_cast<size_t>(d)];
    auto s = std::make_shared<Sequence>();
    s->elemType = x.dtype;
    const auto* src = static_cast<const uint8_t*>(x.data);
    int64_t start = 0;
    for (int64_t l : lengths) {
      Shape dims = x.dims;
      dims[static_cast<size_t>(axis)] = l;
      const size_t row = static_cast<size_t>(l * inner) * esize;
      std::vector<uint8_t> bytes(static_cast<size_t>(outer) * row);
      for (int64_t o = 0; o < outer && row; ++o)
        std::memcpy(bytes.data() + static_cast<size_t>(o) * row,
                    src + (static_cast<size_t>(o * len + start) * static_cast<size_t>(inner)) * esize, row);
      if (!keep) dims.erase(dims.begin() + axis);
      s->items.push_back(ir::Tensor::fromBytes(x.dtype, dims, bytes.data(), bytes.size()));
      start += l;
    }
    setSequence(io, 0, std::move(s));
  }

 private:
  int64_t axis_;
  bool keepdims_;
};

// ConcatFromSequence: Concat of the items along axis, or (new_axis = 1) stacked along a new axis.
class ConcatFromSequenceKernel : public Kernel {
 public:
  explicit ConcatFromSequenceKernel(const KernelBuildContext& ctx)
      : axis_(ctx.node.attrInt("axis", 0)), newAxis_(ctx.node.attrInt("new_axis", 0) != 0) {
    if (!ctx.node.attr("axis")) ctx.invalid("ConcatFromSequence needs an axis");
  }
  void run(KernelIo& io) override {
    const Sequence& in = requireSequence(io, io.inputValue(0), 0);
    if (in.items.empty()) throwRunError(io, "cannot concatenate an empty sequence");
    const ir::Tensor& first = in.items[0];
    if (first.dtype() == ir::DataType::kString) throwUnsupported(io.describe() + ": string sequences are not supported");
    const int64_t rank = first.rank();
    const int64_t axis = normalizeAxis(io, axis_, rank + (newAxis_ ? 1 : 0), "axis");
    Shape out = first.dims();
    if (newAxis_) out.insert(out.begin() + axis, 0);
    else out[static_cast<size_t>(axis)] = 0;  // the sum of the items' lengths, added below
    for (const ir::Tensor& t : in.items) {
      bool ok = t.dtype() == first.dtype() && t.rank() == rank;
      for (int64_t d = 0; ok && d < rank; ++d)
        ok = (!newAxis_ && d == axis) || t.dims()[static_cast<size_t>(d)] == first.dims()[static_cast<size_t>(d)];
      if (!ok) throwRunError(io, "the sequence's tensors differ in type or in dims other than the axis");
      out[static_cast<size_t>(axis)] += newAxis_ ? 1 : t.dims()[static_cast<size_t>(axis)];
    }
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out[static_cast<size_t>(d)];
    RtTensor& y = io.allocOutput(0, first.dtype(), out);
    auto* dst = static_cast<uint8_t*>(y.data);
    const size_t dstRow = outer ? y.nbytes / static_cast<size_t>(outer) : 0;
    size_t offset = 0;
    for (const ir::Tensor& t : in.items) {
      const size_t row = outer ? t.nbytes() / static_cast<size_t>(outer) : 0;
      for (int64_t o = 0; o < outer && row; ++o)
        std::memcpy(dst + static_cast<size_t>(o) * dstRow + offset, t.data() + static_cast<size_t>(o) * row, row);
      offset += row;
    }
  }

 private:
  int64_t axis_;
  bool newAxis_;
};

template <typename K>
std::unique_ptr<Kernel> make(const KernelBuildContext&) {
  return std::make_unique<K>();
}
template <typename K>
std::unique_ptr<Kernel> makeWithCtx(const KernelBuildContext& ctx) {
  return std::make_unique<K>(ctx);
}

}  // namespace

void registerSequenceKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "SequenceEmpty", 11, 1000, makeWithCtx<SequenceEmptyKernel>});
  r.add(KernelEntry{"", "SequenceConstruct", 11, 1000, make<SequenceConstructKernel>});
  r.add(KernelEntry{"", "SequenceInsert", 11, 1000, make<SequenceInsertKernel>});
  r.add(KernelEntry{"", "SequenceAt", 11, 1000, make<SequenceAtKernel>});
  r.add(KernelEntry{"", "SequenceErase", 11, 1000, make<SequenceEraseKernel>});
  r.add(KernelEntry{"", "SequenceLength", 11, 1000, make<SequenceLengthKernel>});
  r.add(KernelEntry{"", "SplitToSequence", 11, 1000, makeWithCtx<SplitToSequenceKernel>});
  r.add(KernelEntry{"", "ConcatFromSequence", 11, 1000, makeWithCtx<ConcatFromSequenceKernel>});
}

}  // namespace effdl::runtime
