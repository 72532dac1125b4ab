// Constant folding of shape computations on static shapes; see the header.
#include "passes/cleanup/fold_shape_computations.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/checked_math.h"
#include "passes/common/storage_markers.h"

namespace effdl::passes {
namespace {

using ir::DataType;

// Folding never materialises more than this many elements (nor reads a constant larger than it):
// a hostile file can ask for 2^40 elements with a four-element shape.
constexpr int64_t kMaxFoldElements = 4096;
// ConstantOfShape turns a few bytes into many: keep what it adds to the file small.
constexpr int64_t kMaxConstantOfShapeElements = 1024;

// Why a candidate does not fold. Thrown only inside this file and caught once per node: a decline
// is a statistic, not an error, and throwing keeps the many small checks below one line each.
struct Decline {
  std::string why;
};

void require(bool ok, const char* why) {
  if (!ok) throw Decline{why};
}

bool isOnnxDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

bool isIndexType(DataType t) { return t == DataType::kInt64 || t == DataType::kInt32; }
bool isFoldableType(DataType t) { return isIndexType(t) || t == DataType::kBool; }

bool fits(DataType t, int64_t v) {
  if (t == DataType::kInt32) return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
  if (t == DataType::kBool) return v == 0 || v == 1;
  return true;
}

std::optional<int64_t> checkedSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Product of dims, declining before anything is allocated when it exceeds `limit` or overflows.
int64_t boundedCount(std::span<const int64_t> dims, int64_t limit = kMaxFoldElements) {
  for (int64_t d : dims) require(d >= 0, "negative dimension");
  auto n = checkedElementCount(dims);
  require(n && *n <= limit, "result too large");
  return *n;
}

// Product of dims that may include huge values next to a zero (a valid empty tensor).
int64_t product(std::span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    auto m = checkedMul(n, d);
    require(m.has_value(), "result too large");
    n = *m;
  }
  return n;
}

// Row-major strides of dims.
std::vector<int64_t> stridesOf(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size());
  int64_t acc = 1;
  for (size_t k = dims.size(); k-- > 0;) {
    s[k] = acc;
    auto m = checkedMul(acc, dims[k]);
    require(m.has_value(), "result too large");
    acc = *m;
  }
  return s;
}

// Calls f with every multi-index of dims in row-major order (once for a scalar, never when a dim
// is 0).
template <typename F>
void forEachIndex(const std::vector<int64_t>& dims, F&& f) {
  for (int64_t d : dims)
    if (d <= 0) return;
  std::vector<int64_t> idx(dims.size(), 0);
  for (;;) {
    f(idx);
    size_t k = dims.size();
    for (; k > 0; --k) {
      if (++idx[k - 1] < dims[k - 1]) break;
      idx[k - 1] = 0;
    }
    if (k == 0) return;
  }
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  require(axis >= -rank && axis < rank, "axis out of range");
  return axis < 0 ? axis + rank : axis;
}

// An integer (or bool) tensor being folded, its elements widened to int64.
struct Ints {
  DataType dtype = DataType::kInt64;
  std::vector<int64_t> dims;
  std::vector<int64_t> data;
  int64_t rank() const { return static_cast<int64_t>(dims.size()); }
};

ir::Tensor toTensor(const Ints& v) {
  switch (v.dtype) {
    case DataType::kInt32: {
      std::vector<int32_t> d;
      d.reserve(v.data.size());
      for (int64_t x : v.data) d.push_back(static_cast<int32_t>(x));
      return ir::Tensor::fromVector(v.dtype, v.dims, d);
    }
    case DataType::kBool: {
      std::vector<uint8_t> d;
      d.reserve(v.data.size());
      for (int64_t x : v.data) d.push_back(x != 0 ? 1 : 0);
      return ir::Tensor::fromVector(v.dtype, v.dims, d);
    }
    default: return ir::Tensor::fromVector(v.dtype, v.dims, v.data);
  }
}

// The constant behind v: a dense initializer, a Constant node's value, or either of those in an
// enclosing graph when v is a subgraph's capture.
std::optional<ir::Tensor> constantOf(const ir::Value* v) {
  if (!v) return std::nullopt;
  while (v->outer()) v = v->outer();
  if (v->isConstant()) return v->initializer();
  const ir::Node* p = v->producer();
  if (!p || p->opType() != "Constant" || !isOnnxDomain(p->domain())) return std::nullopt;
  if (const ir::Attribute* a = p->attr("value"); a && a->type == ir::AttrType::kTensor) return a->t;
  if (const ir::Attribute* a = p->attr("value_int"); a && a->type == ir::AttrType::kInt)
    return ir::Tensor::fromVector(DataType::kInt64, {}, std::vector<int64_t>{a->i});
  if (const ir::Attribute* a = p->attr("value_ints"); a && a->type == ir::AttrType::kInts)
    return ir::Tensor::fromVector(DataType::kInt64, {static_cast<int64_t>(a->ints.size())}, a->ints);
  return std::nullopt;
}

// A constant of a foldable type, widened; declines when it is too large to fold.
Ints readInts(const ir::Tensor& t) {
  for (int64_t d : t.dims()) require(d >= 0 && d <= kMaxFoldElements, "input too large");
  auto n = checkedElementCount(t.dims());
  require(n && *n <= kMaxFoldElements, "input too large");
  Ints r{t.dtype(), t.dims(), {}};
  r.data.reserve(static_cast<size_t>(*n));
  auto take = [&](auto values) {
    require(values.size() == static_cast<size_t>(*n), "constant has the wrong byte size");
    for (auto x : values) r.data.push_back(static_cast<int64_t>(x));
  };
  switch (t.dtype()) {
    case DataType::kInt64: take(t.values<int64_t>()); break;
    case DataType::kInt32: take(t.values<int32_t>()); break;
    default:
      take(t.values<uint8_t>());
      for (int64_t& x : r.data) x = x != 0;
      break;
  }
  return r;
}

// Every input of n as constant integers (nullopt for omitted ones); nullopt overall when a
// present input is not a constant of a foldable type, as n is then not a candidate.
std::optional<std::vector<std::optional<Ints>>> constantInputs(const ir::Node& n) {
  std::vector<std::optional<ir::Tensor>> tensors;
  for (const ir::Value* v : n.inputs()) {
    if (!v) {
      tensors.emplace_back();
      continue;
    }
    auto t = constantOf(v);
    if (!t || !isFoldableType(t->dtype())) return std::nullopt;
    tensors.push_back(std::move(t));
  }
  std::vector<std::optional<Ints>> r;
  for (const auto& t : tensors) r.push_back(t ? std::optional<Ints>(readInts(*t)) : std::nullopt);
  return r;
}

const Ints* inputAt(const std::vector<std::optional<Ints>>& in, size_t i) {
  return i < in.size() && in[i] ? &*in[i] : nullptr;
}

// An integer list (axes, starts, ...): a scalar or 1-D int64/int32 constant.
std::vector<int64_t> listOf(const Ints& v) {
  require(isIndexType(v.dtype) && v.rank() <= 1, "list input is not 1-D integers");
  return v.data;
}

// ---------------------------------------------------------------- Shape, Size

int64_t clampIndex(int64_t i, int64_t rank) {
  if (i < 0) i += rank;
  return std::clamp<int64_t>(i, 0, rank);
}

// The dims a Shape node reads from its input's type, each known or not; nullopt when the rank is
// unknown.
std::optional<std::vector<std::optional<int64_t>>> shapeDims(const ir::Node& shape, int64_t opset) {
  const ir::Value* x = shape.input(0);
  if (!x || x->type().kind != ir::ValueType::Kind::kTensor || !x->type().shape) return std::nullopt;
  const auto& dims = *x->type().shape;
  const auto rank = static_cast<int64_t>(dims.size());
  int64_t start = 0, end = rank;
  if (opset >= 15) {
    start = clampIndex(shape.attrInt("start", 0), rank);
    end = clampIndex(shape.attrInt("end", rank), rank);
  }
  std::vector<std::optional<int64_t>> r;
  for (int64_t i = start; i < end; ++i) {
    const ir::Dim& d = dims[static_cast<size_t>(i)];
    r.push_back(d.value && *d.value >= 0 ? d.value : std::nullopt);
  }
  return r;
}

std::optional<ir::Tensor> foldShape(const ir::Node& n, int64_t opset) {
  auto dims = shapeDims(n, opset);
  require(dims.has_value(), "input shape not static");
  Ints r{DataType::kInt64, {static_cast<int64_t>(dims->size())}, {}};
  boundedCount(r.dims);
  for (const auto& d : *dims) {
    require(d.has_value(), "input shape not static");
    r.data.push_back(*d);
  }
  return toTensor(r);
}

std::optional<ir::Tensor> foldSize(const ir::Node& n, int64_t) {
  const ir::Value* x = n.input(0);
  auto dims = x ? x->type().staticShape() : std::nullopt;
  require(dims.has_value(), "input shape not static");
  auto count = checkedElementCount(*dims);
  require(count.has_value(), "element count overflows");
  return toTensor(Ints{DataType::kInt64, {}, {*count}});
}

// ---------------------------------------------------------------- Gather, Slice

// Gather's and Slice's data: a constant, or a Shape's output whose dims may be known only in part.
struct Data {
  DataType dtype;
  std::vector<int64_t> dims;
  std::vector<std::optional<int64_t>> values;
};

std::optional<Data> dataOf(const ir::Value* v, int64_t opset) {
  if (!v) return std::nullopt;
  if (auto t = constantOf(v)) {
    if (!isFoldableType(t->dtype())) return std::nullopt;
    Ints i = readInts(*t);
    return Data{i.dtype, i.dims, {i.data.begin(), i.data.end()}};
  }
  while (v->outer()) v = v->outer();
  const ir::Node* p = v->producer();
  if (!p || p->opType() != "Shape" || !isOnnxDomain(p->domain())) return std::nullopt;
  auto dims = shapeDims(*p, opset);
  if (!dims) return std::nullopt;
  return Data{DataType::kInt64, {static_cast<int64_t>(dims->size())}, *dims};
}

// The output of a Gather or Slice: its dims and, per element, the data element it copies.
struct Selection {
  std::vector<int64_t> dims;
  std::vector<int64_t> source;
};

// Folds when every selected element is known (a Shape's unknown dims stay unknown).
std::optional<ir::Tensor> pick(const Data& d, const Selection& s) {
  Ints r{d.dtype, s.dims, {}};
  r.data.reserve(s.source.size());
  for (int64_t i : s.source) {
    const auto& v = d.values[static_cast<size_t>(i)];
    if (!v) return std::nullopt;
    r.data.push_back(*v);
  }
  return toTensor(r);
}

std::optional<ir::Tensor> foldGather(const ir::Node& n, int64_t opset) {
  auto data = dataOf(n.input(0), opset);
  auto indicesT = constantOf(n.input(1));
  if (!data || !indicesT || !isIndexType(indicesT->dtype())) return std::nullopt;
  Ints indices = readInts(*indicesT);
  const std::vector<int64_t>& dims = data->dims;
  require(!dims.empty(), "scalar data");
  const auto axis = static_cast<size_t>(normalizeAxis(n.attrInt("axis", 0), static_cast<int64_t>(dims.size())));
  const int64_t axisDim = dims[axis];
  for (int64_t& i : indices.data) {
    if (i < 0) i += axisDim;
    require(i >= 0 && i < axisDim, "index out of range");
  }
  Selection s;
  s.dims.assign(dims.begin(), dims.begin() + static_cast<std::ptrdiff_t>(axis));
  s.dims.insert(s.dims.end(), indices.dims.begin(), indices.dims.end());
  s.dims.insert(s.dims.end(), dims.begin() + static_cast<std::ptrdiff_t>(axis) + 1, dims.end());
  boundedCount(s.dims);
  const int64_t outer = product(std::span(dims).first(axis));
  const int64_t inner = product(std::span(dims).subspan(axis + 1));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : indices.data)
      for (int64_t k = 0; k < inner; ++k) s.source.push_back((o * axisDim + i) * inner + k);
  return pick(*data, s);
}

// Where a slice along one axis starts and how many elements it takes, clamped as the spec says.
std::pair<int64_t, int64_t> sliceRange(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    if (end <= start) return {0, 0};
    auto span = static_cast<uint64_t>(end - start), mag = static_cast<uint64_t>(step);
    return {start, static_cast<int64_t>(span / mag + (span % mag != 0))};
  }
  if (dim == 0) return {0, 0};
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  if (start <= end) return {0, 0};
  // |step| computed unsigned: -INT64_MIN does not fit int64.
  auto span = static_cast<uint64_t>(start - end), mag = uint64_t{0} - static_cast<uint64_t>(step);
  return {start, static_cast<int64_t>(span / mag + (span % mag != 0))};
}

Selection sliceSelection(const std::vector<int64_t>& dims, const std::vector<int64_t>& starts,
                         const std::vector<int64_t>& ends, const std::optional<std::vector<int64_t>>& axesIn,
                         const std::optional<std::vector<int64_t>>& stepsIn) {
  const auto rank = static_cast<int64_t>(dims.size());
  require(starts.size() == ends.size(), "slice inputs differ in length");
  std::vector<int64_t> axes(starts.size()), steps(starts.size(), 1);
  for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int64_t>(i);
  if (axesIn) axes = *axesIn;
  if (stepsIn) steps = *stepsIn;
  require(axes.size() == starts.size() && steps.size() == starts.size(), "slice inputs differ in length");
  std::vector<int64_t> first(dims.size(), 0), step(dims.size(), 1);
  Selection s;
  s.dims = dims;
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    const auto a = static_cast<size_t>(normalizeAxis(axes[i], rank));
    require(!seen[a], "repeated axis");
    seen[a] = true;
    require(steps[i] != 0, "zero step");
    auto [start, count] = sliceRange(dims[a], starts[i], ends[i], steps[i]);
    first[a] = start;
    step[a] = steps[i];
    s.dims[a] = count;
  }
  boundedCount(s.dims);
  const std::vector<int64_t> strides = stridesOf(dims);
  forEachIndex(s.dims, [&](const std::vector<int64_t>& idx) {
    // In range by construction: first + idx * step stays inside [0, dim).
    int64_t src = 0;
    for (size_t a = 0; a < idx.size(); ++a) src += (first[a] + idx[a] * step[a]) * strides[a];
    s.source.push_back(src);
  });
  return s;
}

std::optional<ir::Tensor> foldSlice(const ir::Node& n, int64_t opset) {
  auto data = dataOf(n.input(0), opset);
  if (!data) return std::nullopt;
  std::vector<int64_t> starts, ends;
  std::optional<std::vector<int64_t>> axes, steps;
  if (opset >= 10) {
    std::vector<std::optional<Ints>> lists;
    for (size_t i = 1; i < n.numInputs(); ++i) {
      const ir::Value* v = n.input(i);
      if (!v) {
        lists.emplace_back();
        continue;
      }
      auto t = constantOf(v);
      if (!t || !isIndexType(t->dtype())) return std::nullopt;
      lists.push_back(readInts(*t));
    }
    lists.resize(4);
    require(lists[0] && lists[1], "starts or ends missing");
    starts = listOf(*lists[0]);
    ends = listOf(*lists[1]);
    if (lists[2]) axes = listOf(*lists[2]);
    if (lists[3]) steps = listOf(*lists[3]);
  } else {
    starts = n.attrInts("starts");
    ends = n.attrInts("ends");
    if (n.attr("axes")) axes = n.attrInts("axes");
  }
  return pick(*data, sliceSelection(data->dims, starts, ends, axes, steps));
}

// ---------------------------------------------------------------- shape-only rewrites

std::optional<ir::Tensor> foldUnsqueeze(const ir::Node& n, int64_t opset) {
  auto in = constantInputs(n);
  if (!in || !inputAt(*in, 0)) return std::nullopt;
  const Ints& x = *inputAt(*in, 0);
  std::vector<int64_t> axes;
  if (opset >= 13) {
    require(inputAt(*in, 1) != nullptr, "axes missing");
    axes = listOf(*inputAt(*in, 1));
  } else {
    axes = n.attrInts("axes");
  }
  const int64_t outRank = x.rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> inserted(static_cast<size_t>(outRank), false);
  for (int64_t a : axes) {
    const auto k = static_cast<size_t>(normalizeAxis(a, outRank));
    require(!inserted[k], "repeated axis");
    inserted[k] = true;
  }
  Ints r{x.dtype, {}, x.data};
  size_t from = 0;
  for (bool ins : inserted) r.dims.push_back(ins ? 1 : x.dims[from++]);
  return toTensor(r);
}

std::optional<ir::Tensor> foldSqueeze(const ir::Node& n, int64_t opset) {
  auto in = constantInputs(n);
  if (!in || !inputAt(*in, 0)) return std::nullopt;
  const Ints& x = *inputAt(*in, 0);
  std::optional<std::vector<int64_t>> axes;
  if (opset >= 13) {
    if (const Ints* a = inputAt(*in, 1)) axes = listOf(*a);
  } else if (n.attr("axes")) {
    axes = n.attrInts("axes");
  }
  std::vector<bool> drop(x.dims.size(), false);
  if (axes) {
    for (int64_t a : *axes) {
      const auto k = static_cast<size_t>(normalizeAxis(a, x.rank()));
      require(!drop[k], "repeated axis");
      require(x.dims[k] == 1, "squeezed dim is not 1");
      drop[k] = true;
    }
  } else {
    for (size_t k = 0; k < drop.size(); ++k) drop[k] = x.dims[k] == 1;
  }
  Ints r{x.dtype, {}, x.data};
  for (size_t k = 0; k < drop.size(); ++k)
    if (!drop[k]) r.dims.push_back(x.dims[k]);
  return toTensor(r);
}

std::optional<ir::Tensor> foldReshape(const ir::Node& n, int64_t opset) {
  auto in = constantInputs(n);
  if (!in || !inputAt(*in, 0) || !inputAt(*in, 1)) return std::nullopt;
  const Ints& x = *inputAt(*in, 0);
  const Ints& shape = *inputAt(*in, 1);
  require(shape.dtype == DataType::kInt64 && shape.rank() == 1, "shape is not 1-D int64");
  const bool allowZero = opset >= 14 && n.attrInt("allowzero", 0) != 0;
  const auto total = static_cast<int64_t>(x.data.size());
  Ints r{x.dtype, {}, x.data};
  std::optional<size_t> inferred;
  int64_t known = 1;
  for (size_t i = 0; i < shape.data.size(); ++i) {
    int64_t d = shape.data[i];
    if (d == 0 && !allowZero) {
      require(i < x.dims.size(), "shape copies a dim the input lacks");
      d = x.dims[i];
    }
    if (d == -1) {
      require(!inferred, "two -1 dims in shape");
      inferred = i;
      r.dims.push_back(1);
      continue;
    }
    require(d >= 0, "negative dimension");
    auto m = checkedMul(known, d);
    require(m.has_value(), "shape does not match the element count");
    known = *m;
    r.dims.push_back(d);
  }
  if (inferred) {
    require(known != 0 && total % known == 0, "shape does not match the element count");
    r.dims[*inferred] = total / known;
  } else {
    require(known == total, "shape does not match the element count");
  }
  return toTensor(r);
}

std::optional<ir::Tensor> foldIdentity(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || !inputAt(*in, 0)) return std::nullopt;
  return toTensor(*inputAt(*in, 0));
}

std::optional<ir::Tensor> foldConcat(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || in->empty() || !n.attr("axis")) return std::nullopt;
  std::vector<const Ints*> xs;
  for (const auto& x : *in) {
    if (!x) return std::nullopt;
    xs.push_back(&*x);
  }
  const Ints& x0 = *xs[0];
  require(x0.rank() >= 1, "scalar input");
  const auto axis = static_cast<size_t>(normalizeAxis(n.attrInt("axis", 0), x0.rank()));
  Ints r{x0.dtype, x0.dims, {}};
  r.dims[axis] = 0;
  for (const Ints* x : xs) {
    require(x->dtype == x0.dtype && x->rank() == x0.rank(), "inputs differ in type or rank");
    for (size_t k = 0; k < x0.dims.size(); ++k)
      require(k == axis || x->dims[k] == x0.dims[k], "inputs differ in shape");
    auto sum = checkedAdd(r.dims[axis], x->dims[axis]);
    require(sum.has_value(), "result too large");
    r.dims[axis] = *sum;
  }
  boundedCount(r.dims);
  const int64_t outer = product(std::span(x0.dims).first(axis));
  const int64_t inner = product(std::span(x0.dims).subspan(axis + 1));
  for (int64_t o = 0; o < outer; ++o) {
    for (const Ints* x : xs) {
      const int64_t chunk = x->dims[axis] * inner;
      auto begin = x->data.begin() + static_cast<std::ptrdiff_t>(o * chunk);
      r.data.insert(r.data.end(), begin, begin + static_cast<std::ptrdiff_t>(chunk));
    }
  }
  return toTensor(r);
}

// ---------------------------------------------------------------- element-wise

// Numpy-style multidirectional broadcast of `xs`: f(values) for every output element.
template <typename F>
Ints broadcast(const std::vector<const Ints*>& xs, DataType outType, F&& f) {
  size_t rank = 0;
  for (const Ints* x : xs) rank = std::max(rank, x->dims.size());
  std::vector<int64_t> dims(rank, 1);
  for (const Ints* x : xs) {
    for (size_t k = 0; k < x->dims.size(); ++k) {
      int64_t& o = dims[rank - x->dims.size() + k];
      const int64_t d = x->dims[k];
      if (o == 1) o = d;
      else require(d == 1 || d == o, "shapes do not broadcast");
    }
  }
  boundedCount(dims);
  // Per input, the stride of each output axis (0 where it broadcasts).
  std::vector<std::vector<int64_t>> strides;
  for (const Ints* x : xs) {
    std::vector<int64_t> own = stridesOf(x->dims), s(rank, 0);
    for (size_t k = 0; k < x->dims.size(); ++k)
      if (x->dims[k] != 1) s[rank - x->dims.size() + k] = own[k];
    strides.push_back(std::move(s));
  }
  Ints r{outType, dims, {}};
  std::vector<int64_t> args(xs.size());
  forEachIndex(dims, [&](const std::vector<int64_t>& idx) {
    for (size_t j = 0; j < xs.size(); ++j) {
      int64_t off = 0;
      for (size_t k = 0; k < rank; ++k) off += idx[k] * strides[j][k];
      args[j] = xs[j]->data[static_cast<size_t>(off)];
    }
    r.data.push_back(f(std::span<const int64_t>(args)));
  });
  return r;
}

std::optional<ir::Tensor> foldArithmetic(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || in->size() != 2 || !inputAt(*in, 0) || !inputAt(*in, 1)) return std::nullopt;
  const Ints& a = *inputAt(*in, 0);
  const Ints& b = *inputAt(*in, 1);
  if (a.dtype != b.dtype || !isIndexType(a.dtype)) return std::nullopt;
  const char op = n.opType() == "Add" ? '+' : n.opType() == "Sub" ? '-' : n.opType() == "Mul" ? '*' : '/';
  return toTensor(broadcast({&a, &b}, a.dtype, [&](std::span<const int64_t> v) {
    std::optional<int64_t> r;
    switch (op) {
      case '+': r = checkedAdd(v[0], v[1]); break;
      case '-': r = checkedSub(v[0], v[1]); break;
      case '*': r = checkedMul(v[0], v[1]); break;
      default:
        require(v[1] != 0, "division by zero");
        // Truncating, as ONNX Runtime's integer Div; INT64_MIN / -1 overflows.
        if (v[0] != std::numeric_limits<int64_t>::min() || v[1] != -1) r = v[0] / v[1];
        break;
    }
    require(r && fits(a.dtype, *r), "integer overflow");
    return *r;
  }));
}

std::optional<ir::Tensor> foldEqual(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || in->size() != 2 || !inputAt(*in, 0) || !inputAt(*in, 1)) return std::nullopt;
  const Ints& a = *inputAt(*in, 0);
  const Ints& b = *inputAt(*in, 1);
  if (a.dtype != b.dtype) return std::nullopt;
  return toTensor(broadcast({&a, &b}, DataType::kBool, [](std::span<const int64_t> v) -> int64_t { return v[0] == v[1]; }));
}

std::optional<ir::Tensor> foldWhere(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || in->size() != 3 || !inputAt(*in, 0) || !inputAt(*in, 1) || !inputAt(*in, 2)) return std::nullopt;
  const Ints& c = *inputAt(*in, 0);
  const Ints& x = *inputAt(*in, 1);
  const Ints& y = *inputAt(*in, 2);
  if (c.dtype != DataType::kBool || x.dtype != y.dtype) return std::nullopt;
  return toTensor(broadcast({&c, &x, &y}, x.dtype, [](std::span<const int64_t> v) { return v[0] ? v[1] : v[2]; }));
}

std::optional<ir::Tensor> foldCast(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || !inputAt(*in, 0)) return std::nullopt;
  const int64_t to = n.attrInt("to", 0);
  if (to != static_cast<int64_t>(DataType::kInt64) && to != static_cast<int64_t>(DataType::kInt32) &&
      to != static_cast<int64_t>(DataType::kBool))
    return std::nullopt;
  Ints r = *inputAt(*in, 0);
  r.dtype = static_cast<DataType>(to);
  for (int64_t& v : r.data) {
    if (r.dtype == DataType::kBool) v = v != 0;
    // ONNX leaves out-of-range integer casts to the implementation: do not guess.
    else require(fits(r.dtype, v), "value does not fit the target type");
  }
  return toTensor(r);
}

std::optional<ir::Tensor> foldRange(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || in->size() != 3) return std::nullopt;
  int64_t v[3];
  DataType dtype = DataType::kUndefined;
  for (size_t i = 0; i < 3; ++i) {
    const Ints* x = inputAt(*in, i);
    if (!x || !isIndexType(x->dtype) || (i > 0 && x->dtype != dtype)) return std::nullopt;
    require(x->data.size() == 1, "Range input is not a scalar");
    dtype = x->dtype;
    v[i] = x->data[0];
  }
  const int64_t start = v[0], limit = v[1], delta = v[2];
  require(delta != 0, "zero step");
  int64_t count = 0;
  if ((delta > 0 && limit > start) || (delta < 0 && limit < start)) {
    // Distance and step as magnitudes, unsigned: neither needs to fit int64.
    const uint64_t span = delta > 0 ? static_cast<uint64_t>(limit) - static_cast<uint64_t>(start)
                                    : static_cast<uint64_t>(start) - static_cast<uint64_t>(limit);
    const uint64_t mag = delta > 0 ? static_cast<uint64_t>(delta) : uint64_t{0} - static_cast<uint64_t>(delta);
    const uint64_t c = span / mag + (span % mag != 0);
    require(c <= static_cast<uint64_t>(kMaxFoldElements), "result too large");
    count = static_cast<int64_t>(c);
  }
  Ints r{dtype, {count}, {}};
  // Stepping value by value: each lies between start and limit, where i * delta might not.
  for (int64_t i = 0, value = start; i < count; ++i) {
    r.data.push_back(value);
    if (i + 1 < count) value += delta;
  }
  return toTensor(r);
}

std::optional<ir::Tensor> foldConstantOfShape(const ir::Node& n, int64_t) {
  auto in = constantInputs(n);
  if (!in || !inputAt(*in, 0)) return std::nullopt;
  const Ints& shape = *inputAt(*in, 0);
  require(isIndexType(shape.dtype) && shape.rank() == 1, "shape is not 1-D integers");
  const int64_t count = boundedCount(shape.data, kMaxConstantOfShapeElements);
  ir::Tensor value = ir::Tensor::fromVector(DataType::kFloat, {1}, std::vector<float>{0.0f});
  if (const ir::Attribute* a = n.attr("value"); a && a->type == ir::AttrType::kTensor) value = a->t;
  const size_t size = ir::dtypeSize(value.dtype());
  require(size > 0 && value.nbytes() == size, "value is not one fixed-size element");
  std::vector<uint8_t> bytes(static_cast<size_t>(count) * size);
  for (size_t i = 0; i < bytes.size(); i += size) std::memcpy(bytes.data() + i, value.data(), size);
  return ir::Tensor::fromBytes(value.dtype(), shape.data, bytes.data(), bytes.size());
}

// ---------------------------------------------------------------- the pass

using FoldFn = std::optional<ir::Tensor> (*)(const ir::Node&, int64_t opset);

struct Folder {
  std::string_view op;
  FoldFn fold;
};

constexpr Folder kFolders[] = {
    {"Shape", foldShape},         {"Size", foldSize},
    {"Gather", foldGather},       {"Slice", foldSlice},
    {"Unsqueeze", foldUnsqueeze}, {"Squeeze", foldSqueeze},
    {"Reshape", foldReshape},     {"Identity", foldIdentity},
    {"Concat", foldConcat},       {"Add", foldArithmetic},
    {"Sub", foldArithmetic},      {"Mul", foldArithmetic},
    {"Div", foldArithmetic},      {"Equal", foldEqual},
    {"Where", foldWhere},         {"Cast", foldCast},
    {"Range", foldRange},         {"ConstantOfShape", foldConstantOfShape},
};

FoldFn folderFor(const ir::Node& n) {
  if (!isOnnxDomain(n.domain())) return nullptr;
  for (const Folder& f : kFolders)
    if (f.op == n.opType()) return f.fold;
  return nullptr;
}

// Whether the folded value agrees with what the loader's shape inference said about the output.
bool agreesWithType(const ir::ValueType& t, const ir::Tensor& v) {
  if (t.kind == ir::ValueType::Kind::kUnknown) return true;
  if (t.kind != ir::ValueType::Kind::kTensor) return false;
  if (t.elemType != DataType::kUndefined && t.elemType != v.dtype()) return false;
  if (!t.shape) return true;
  if (t.shape->size() != v.dims().size()) return false;
  for (size_t i = 0; i < v.dims().size(); ++i) {
    const auto& known = (*t.shape)[i].value;
    if (known && *known != v.dims()[i]) return false;
  }
  return true;
}

void foldGraph(ir::Graph& g, int64_t opset, PassResult& r) {
  for (ir::Node* n : g.nodes()) {
    for (auto& a : n->attributes()) {
      if (a.g) foldGraph(*a.g, opset, r);
      for (auto& sg : a.graphs) foldGraph(*sg, opset, r);
    }
    if (n->docString() == kSparseDecodeDoc) continue;  // sparse-storage's decode tables stay computed
    FoldFn fold = folderFor(*n);
    // Every folded op has exactly one output.
    if (!fold || n->numOutputs() != 1 || !n->output(0)) continue;
    ir::Value* out = n->output(0);
    std::optional<ir::Tensor> value;
    try {
      value = fold(*n, opset);
      if (!value) continue;
      require(agreesWithType(out->type(), *value), "result disagrees with the inferred type");
      require(!out->isGraphOutput(), "output is a graph output");
    } catch (const Decline& d) {
      r.decline(d.why);
      continue;
    }
    ir::Value* folded = g.addInitializer(out->name(), std::move(*value), /*fresh=*/true);
    g.replaceAllUsesWith(out, folded);
    g.eraseNode(n);
    r.count("nodes folded");
  }
  g.collectGarbage();
}

}  // namespace

PassResult FoldShapeComputations::run(ir::Model& model, PassContext&) {
  PassResult r;
  // Without the default domain there is nothing this pass knows how to evaluate.
  if (auto opset = model.opsetFor("")) foldGraph(*model.graph, *opset, r);
  r.changed = r.counter("nodes folded") > 0;
  return r;
}

PassInfo foldShapeComputationsInfo() {
  return PassInfo{"fold-shapes",
                  "fold Shape/Gather/Unsqueeze/Concat/... chains on static shapes into constant initializers",
                  {},
                  [](const PassOptions&) { return std::make_unique<FoldShapeComputations>(); }};
}

}  // namespace effdl::passes
