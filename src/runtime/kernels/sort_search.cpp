// Ops that order or scan values along an axis: TopK, ArgMax, ArgMin, CumSum, Unique. Ties go to the
// lower index (TopK, and ArgMax/ArgMin unless select_last_index). NaN counts as the largest value
// in TopK, and wins ArgMax and ArgMin, as numpy's argmax/argmin.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/shape_numeric.h"
#include "runtime/kernels/shape_util.h"

namespace effdl::runtime {
namespace {

using namespace shape_detail;

template <typename C>
bool lessNanFirst(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
  }
  return a < b;
}

// ---------------------------------------------------------------------------------------- TopK
class TopKKernel : public Kernel {
 public:
  TopKKernel(std::optional<int64_t> k, int64_t axis, bool largest) : k_(k), axis_(axis), largest_(largest) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t r = x.rank();
    if (r == 0) throwRunError(io, "input must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, static_cast<int64_t>(r), "axis"));
    const int64_t d = x.dims[axis];
    const int64_t k = k_ ? *k_ : readScalarInt(io, requireInput(io, 1), "K");
    if (k < 0 || k > d)
      throwRunError(io, "k " + std::to_string(k) + " is out of range for a dim of size " + std::to_string(d));
    Shape dims = x.dims;
    dims[axis] = k;
    RtTensor* values = io.hasOutput(0) ? &io.allocOutput(0, x.dtype, dims) : nullptr;
    RtTensor* indices = io.hasOutput(1) ? &io.allocOutput(1, ir::DataType::kInt64, dims) : nullptr;
    if (k == 0) return;
    const int64_t outer = product(x.dims, 0, axis), inner = product(x.dims, axis + 1, r);
    const bool ok = dispatchNumeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = typename Arith<T>::Compute;
      std::vector<std::pair<C, int64_t>> line(static_cast<size_t>(d));
      // NaN is the largest value; equal values keep index order.
      auto before = [this](const std::pair<C, int64_t>& a, const std::pair<C, int64_t>& b) {
        const bool aGreater = greaterNanFirst(a.first, b.first), bGreater = greaterNanFirst(b.first, a.first);
        if (aGreater != bGreater) return largest_ ? aGreater : bGreater;
        return a.second < b.second;
      };
      const T* in = static_cast<const T*>(x.data);
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          for (int64_t j = 0; j < d; ++j)
            line[static_cast<size_t>(j)] = {Arith<T>::load(in[(o * d + j) * inner + i]), j};
          std::partial_sort(line.begin(), line.begin() + k, line.end(), before);
          for (int64_t j = 0; j < k; ++j) {
            const int64_t pos = (o * k + j) * inner + i;
            if (values) static_cast<T*>(values->data)[pos] = Arith<T>::store(line[static_cast<size_t>(j)].first);
            if (indices) indices->as<int64_t>()[pos] = line[static_cast<size_t>(j)].second;
          }
        }
      }
    });
    if (!ok) throwRunError(io, "unsupported type " + std::string(ir::dtypeName(x.dtype)));
  }

 private:
  std::optional<int64_t> k_;  // the attribute before opset 10, else input 1
  int64_t axis_;
  bool largest_;
};

std::unique_ptr<Kernel> makeTopK(const KernelBuildContext& ctx) {
  std::optional<int64_t> k;
  if (ctx.opset < 10) {
    if (!ctx.node.attr("k")) ctx.invalid("the k attribute is missing");
    k = ctx.node.attrInt("k", 0);
  }
  // sorted=0 allows any order; sorted output is one of them.
  return std::make_unique<TopKKernel>(k, ctx.node.attrInt("axis", -1), ctx.node.attrInt("largest", 1) != 0);
}

// ------------------------------------------------------------------------------ ArgMax, ArgMin
class ArgKernel : public Kernel {
 public:
  ArgKernel(bool isMax, int64_t axis, bool keepDims, bool selectLast)
      : isMax_(isMax), axis_(axis), keepDims_(keepDims), selectLast_(selectLast) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t r = x.rank();
    if (r == 0) throwRunError(io, "input must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, static_cast<int64_t>(r), "axis"));
    const int64_t d = x.dims[axis];
    Shape dims = x.dims;
    if (keepDims_)
      dims[axis] = 1;
    else
      dims.erase(dims.begin() + static_cast<std::ptrdiff_t>(axis));
    RtTensor& y = io.allocOutput(0, ir::DataType::kInt64, dims);
    if (y.nbytes == 0) return;
    if (d == 0) throwRunError(io, "cannot take the arg-extreme of an empty axis");
    const int64_t outer = product(x.dims, 0, axis), inner = product(x.dims, axis + 1, r);
    const bool ok = dispatchNumeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* in = static_cast<const T*>(x.data);
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          auto best = Arith<T>::load(in[o * d * inner + i]);
          int64_t bestAt = 0;
          for (int64_t j = 1; j < d; ++j) {
            const auto v = Arith<T>::load(in[(o * d + j) * inner + i]);
            const bool better = isMax_ ? greaterNanFirst(v, best) : lessNanFirst(v, best);
            if (better || (selectLast_ && v == best)) {
              best = v;
              bestAt = j;
            }
          }
          y.as<int64_t>()[o * inner + i] = bestAt;
        }
      }
    });
    if (!ok) throwRunError(io, "unsupported type " + std::string(ir::dtypeName(x.dtype)));
  }

 private:
  bool isMax_;
  int64_t axis_;
  bool keepDims_, selectLast_;
};

template <bool kIsMax>
std::unique_ptr<Kernel> makeArg(const KernelBuildContext& ctx) {
  return std::make_unique<ArgKernel>(kIsMax, ctx.node.attrInt("axis", 0), ctx.node.attrInt("keepdims", 1) != 0,
                                     ctx.node.attrInt("select_last_index", 0) != 0);
}

// -------------------------------------------------------------------------------------- CumSum
class CumSumKernel : public Kernel {
 public:
  CumSumKernel(bool exclusive, bool reverse) : exclusive_(exclusive), reverse_(reverse) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t r = x.rank();
    if (r == 0) throwRunError(io, "input must have rank >= 1");
    const size_t axis = static_cast<size_t>(
        normalizeAxis(io, readScalarInt(io, requireInput(io, 1), "axis"), static_cast<int64_t>(r), "axis"));
    // Each element is read before its own position is written, so the buffer may be shared.
    RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, x.dims);
    if (y.nbytes == 0) return;
    const int64_t d = x.dims[axis], outer = product(x.dims, 0, axis), inner = product(x.dims, axis + 1, r);
    const bool ok = dispatchNumeric(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      using A = Arith<T>;
      const T* in = static_cast<const T*>(x.data);
      T* out = static_cast<T*>(y.data);
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          typename A::Compute acc{};
          for (int64_t s = 0; s < d; ++s) {
            const int64_t j = reverse_ ? d - 1 - s : s;
            const int64_t pos = (o * d + j) * inner + i;
            const auto v = A::load(in[pos]);
            if (exclusive_) {
              out[pos] = A::store(acc);
              acc = wrapAdd(acc, v);
            } else {
              acc = wrapAdd(acc, v);
              out[pos] = A::store(acc);
            }
          }
        }
      }
    });
    if (!ok) throwRunError(io, "unsupported type " + std::string(ir::dtypeName(x.dtype)));
  }

 private:
  bool exclusive_, reverse_;
};

// -------------------------------------------------------------------------------------- Unique
// Unique elements (no axis) or slices along an axis, sorted or in order of first occurrence, with
// first-occurrence indices, inverse indices and counts. Slices compare lexicographically in the
// C order of the other axes, as numpy's unique(axis=...); NaNs compare equal (numpy's equal_nan).
class UniqueKernel : public Kernel {
 public:
  UniqueKernel(std::optional<int64_t> axis, bool sorted) : axis_(axis), sorted_(sorted) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    Shape view = {1, x.numel(), 1};  // [outer, n, inner]
    size_t axis = 0;
    if (axis_) {
      if (x.rank() == 0) throwRunError(io, "input must have rank >= 1 with an axis");
      axis = static_cast<size_t>(normalizeAxis(io, *axis_, static_cast<int64_t>(x.rank()), "axis"));
      view = {product(x.dims, 0, axis), x.dims[axis], product(x.dims, axis + 1, x.rank())};
    }
    const int64_t outer = view[0], n = view[1], inner = view[2];
    std::vector<int64_t> group(static_cast<size_t>(n));  // slice → its group
    std::vector<int64_t> first, counts;                  // per group, in output order
    const bool ok = dispatchNumeric(
        x.dtype,
        [&](auto tag) {
          using T = decltype(tag);
          const T* in = static_cast<const T*>(x.data);
          auto at = [&](int64_t j, int64_t e) {  // element e of slice j
            const int64_t o = e / inner, i = e % inner;
            return Arith<T>::load(in[(o * n + j) * inner + i]);
          };
          const int64_t sliceLen = outer * inner;
          auto cmp = [&](int64_t a, int64_t b) {  // -1, 0, 1
            for (int64_t e = 0; e < sliceLen; ++e) {
              const auto va = at(a, e), vb = at(b, e);
              if (greaterNanFirst(vb, va)) return -1;
              if (greaterNanFirst(va, vb)) return 1;
            }
            return 0;
          };
          std::vector<int64_t> order(static_cast<size_t>(n));
          std::iota(order.begin(), order.end(), int64_t{0});
          std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
          // Groups in sorted order; stability makes each group's first entry its first occurrence.
          std::vector<int64_t> sortedGroupOf(static_cast<size_t>(n));
          for (size_t k = 0; k < order.size(); ++k) {
            if (k == 0 || cmp(order[k - 1], order[k]) != 0) {
              first.push_back(order[k]);
              counts.push_back(0);
            }
            ++counts.back();
            sortedGroupOf[static_cast<size_t>(order[k])] = static_cast<int64_t>(first.size()) - 1;
          }
          std::vector<int64_t> rank(first.size());
          std::iota(rank.begin(), rank.end(), int64_t{0});
          if (!sorted_) {  // order of first occurrence
            std::vector<int64_t> byFirst(first.size());
            std::iota(byFirst.begin(), byFirst.end(), int64_t{0});
            std::sort(byFirst.begin(), byFirst.end(), [&](int64_t a, int64_t b) {
              return first[static_cast<size_t>(a)] < first[static_cast<size_t>(b)];
            });
            std::vector<int64_t> f2, c2;
            for (size_t k = 0; k < byFirst.size(); ++k) {
              rank[static_cast<size_t>(byFirst[k])] = static_cast<int64_t>(k);
              f2.push_back(first[static_cast<size_t>(byFirst[k])]);
              c2.push_back(counts[static_cast<size_t>(byFirst[k])]);
            }
            first.swap(f2);
            counts.swap(c2);
          }
          for (int64_t j = 0; j < n; ++j)
            group[static_cast<size_t>(j)] = rank[static_cast<size_t>(sortedGroupOf[static_cast<size_t>(j)])];
        },
        true);
    if (!ok) throwRunError(io, "unsupported type " + std::string(ir::dtypeName(x.dtype)));
    const int64_t groups = static_cast<int64_t>(first.size());
    if (io.hasOutput(0)) {
      Shape dims = axis_ ? x.dims : Shape{groups};
      if (axis_) dims[axis] = groups;
      RtTensor& y = io.allocOutput(0, x.dtype, dims);
      const size_t es = elementSize(io, x), block = static_cast<size_t>(inner) * es;
      for (int64_t o = 0; o < outer && block; ++o)
        for (int64_t g = 0; g < groups; ++g)
          std::memcpy(
              static_cast<uint8_t*>(y.data) + static_cast<size_t>(o * groups + g) * block,
              static_cast<const uint8_t*>(x.data) + static_cast<size_t>(o * n + first[static_cast<size_t>(g)]) * block,
              block);
    }
    auto emit = [&](size_t i, const std::vector<int64_t>& v) {
      if (!io.hasOutput(i)) return;
      RtTensor& t = io.allocOutput(i, ir::DataType::kInt64, {static_cast<int64_t>(v.size())});
      if (!v.empty()) std::memcpy(t.data, v.data(), v.size() * sizeof(int64_t));
    };
    emit(1, first);
    emit(2, group);
    emit(3, counts);
  }

 private:
  std::optional<int64_t> axis_;
  bool sorted_;
};

}  // namespace

void registerSortSearchKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "TopK", 1, 1000, makeTopK});
  r.add(KernelEntry{"", "ArgMax", 1, 1000, makeArg<true>});
  r.add(KernelEntry{"", "ArgMin", 1, 1000, makeArg<false>});
  r.add(KernelEntry{"", "CumSum", 11, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<CumSumKernel>(ctx.node.attrInt("exclusive", 0) != 0,
                                                            ctx.node.attrInt("reverse", 0) != 0);
                    }});
  r.add(KernelEntry{"", "Unique", 11, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      std::optional<int64_t> axis;
                      if (ctx.node.attr("axis")) axis = ctx.node.attrInt("axis", 0);
                      return std::make_unique<UniqueKernel>(axis, ctx.node.attrInt("sorted", 1) != 0);
                    }});
}

}  // namespace effdl::runtime
