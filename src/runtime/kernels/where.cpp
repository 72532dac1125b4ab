// Where(condition, X, Y): X where condition holds, else Y, all three broadcast together. The
// kernel moves bits, so one instantiation per element size serves every dtype; selecting between
// integer loads (not floats) lets the compiler vectorise the select.
#include <cstring>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace effdl::runtime {
namespace {

using namespace elementwise;

template <typename U>  // an unsigned integer of the element's size
class WhereKernel final : public Kernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor& c = requireInput(io, 0, ir::DataType::kBool);
    const RtTensor* x = io.input(1);
    const RtTensor* y = io.input(2);
    if (!x || !y) throwRunError(io, "inputs X and Y are required");
    if (x->dtype != y->dtype || ir::dtypeSize(x->dtype) != sizeof(U))
      throwRunError(io, "X is " + std::string(ir::dtypeName(x->dtype)) + " but Y is " +
                            std::string(ir::dtypeName(y->dtype)));
    if (!planned_ || c.dims != dims_[0] || x->dims != dims_[1] || y->dims != dims_[2]) {
      const Shape* ins[] = {&c.dims, &x->dims, &y->dims};
      auto out = broadcastShapes(ins);
      if (!out) throwRunError(io, "inputs of shapes " + shapesString(ins) + " do not broadcast");
      outDims_ = *out;
      if (!plan_.init(outDims_, ins)) throwInternal(io.describe() + ": broadcast plan failed");
      dims_ = {c.dims, x->dims, y->dims};
      planned_ = true;
    }
    RtTensor* out = nullptr;
    if (x->dims == outDims_) {
      out = &io.allocOutputInPlace(0, 1, x->dtype, outDims_);
      if (out->data != x->data) out = nullptr;
    }
    if (!out) out = y->dims == outDims_ ? &io.allocOutputInPlace(0, 2, x->dtype, outDims_)
                                        : &io.allocOutput(0, x->dtype, outDims_);
    const auto* cp = c.as<uint8_t>();
    const U* xp = x->as<U>();
    const U* yp = y->as<U>();
    U* op = out->as<U>();
    const bool cv = plan_.innerVaries(0), xv = plan_.innerVaries(1), yv = plan_.innerVaries(2);
    plan_.run([&](int64_t o, const int64_t* off, int64_t len) {
      selectRun(cp + off[0], xp + off[1], yp + off[2], op + o, len, cv, xv, yv);
    });
  }

 private:
  // Not inlined, so that __restrict holds (see elementwise.h's loops). A select between integer
  // loads vectorises; each of X and Y either advances or is one value (attention masks: X varies,
  // Y is a scalar).
  template <bool kXv, bool kYv>
  [[gnu::noinline]] static void selectLoop(const uint8_t* __restrict c, const U* __restrict x, const U* __restrict y,
                                           U* __restrict o, int64_t n) {
    const U xs = x[0], ys = y[0];
    for (int64_t i = 0; i < n; ++i) {
      const U a = kXv ? x[i] : xs, b = kYv ? y[i] : ys;
      o[i] = c[i] ? a : b;
    }
  }

  static void selectRun(const uint8_t* c, const U* x, const U* y, U* o, int64_t n, bool cv, bool xv, bool yv) {
    if (!cv) {  // one condition for the whole run: a copy or a fill
      const bool take = c[0] != 0;
      const U* src = take ? x : y;
      if (take ? xv : yv) {
        if (o != src) std::memcpy(o, src, static_cast<size_t>(n) * sizeof(U));
      } else {
        std::fill(o, o + n, src[0]);
      }
      return;
    }
    if (xv && yv) selectLoop<true, true>(c, x, y, o, n);
    else if (xv) selectLoop<true, false>(c, x, y, o, n);
    else if (yv) selectLoop<false, true>(c, x, y, o, n);
    else selectLoop<false, false>(c, x, y, o, n);
  }

  bool planned_ = false;
  std::array<Shape, 3> dims_;
  Shape outDims_;
  BroadcastPlan plan_;
};

std::unique_ptr<Kernel> makeWhere(const KernelBuildContext& ctx) {
  if (ctx.numInputs() != 3) ctx.invalid("expects 3 inputs, got " + std::to_string(ctx.numInputs()));
  const ir::DataType c = ctx.input(0) ? ctx.input(0)->type().elemType : ir::DataType::kUndefined;
  if (c != ir::DataType::kUndefined && c != ir::DataType::kBool)
    ctx.invalid("condition must be bool, got " + std::string(ir::dtypeName(c)));
  // Any fixed-size dtype: the kernel only moves elements.
  constexpr uint32_t kAny = kNumeric | kBoolType;
  return makeTypedKernel(
      ctx, kAny,
      [](ir::DataType t, ir::DataType) -> std::unique_ptr<Kernel> {
        if (t == ir::DataType::kString || t == ir::DataType::kUndefined) return nullptr;
        switch (ir::dtypeSize(t)) {
          case 1: return std::make_unique<WhereKernel<uint8_t>>();
          case 2: return std::make_unique<WhereKernel<uint16_t>>();
          case 4: return std::make_unique<WhereKernel<uint32_t>>();
          case 8: return std::make_unique<WhereKernel<uint64_t>>();
          default: return nullptr;  // complex types
        }
      },
      1);
}

}  // namespace

void elementwise::registerWhereKernels(KernelRegistry& r) { r.add(KernelEntry{"", "Where", 1, 1000, makeWhere}); }

}  // namespace effdl::runtime
