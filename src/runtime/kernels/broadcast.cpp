// Broadcast shape rules and the plan that collapses broadcast dims (see broadcast.h).
#include "runtime/kernels/broadcast.h"

#include <cstring>

namespace effdl::runtime {

std::optional<Shape> broadcastShapes(std::span<const Shape* const> shapes) {
  size_t rank = 0;
  for (const Shape* s : shapes) rank = std::max(rank, s->size());
  Shape out(rank, 1);
  for (const Shape* s : shapes) {
    const size_t pad = rank - s->size();
    for (size_t i = 0; i < s->size(); ++i) {
      const int64_t d = (*s)[i];
      int64_t& o = out[pad + i];
      if (d == o || d == 1) continue;
      if (o != 1) return std::nullopt;
      o = d;  // also when d == 0: a dim of 1 stretches to an empty dim
    }
  }
  return out;
}

std::optional<Shape> broadcastShapes(const Shape& a, const Shape& b) {
  const Shape* both[] = {&a, &b};
  return broadcastShapes(both);
}

bool broadcastsTo(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const size_t pad = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != to[pad + i] && from[i] != 1) return false;
  return true;
}

std::optional<Shape> legacyBroadcastShape(const Shape& a, const Shape& b, std::optional<int64_t> axis) {
  const auto rankA = static_cast<int64_t>(a.size());
  const auto rankB = static_cast<int64_t>(b.size());
  int64_t n = 1;
  for (int64_t d : b) n *= d;
  if (n == 1) return Shape(a.size(), 1);  // a scalar, whatever its rank
  int64_t start = axis ? *axis : rankA - rankB;
  if (start < 0 && axis) start += rankA;  // tolerate a negative axis, as later opsets allow
  if (start < 0 || start + rankB > rankA) return std::nullopt;
  Shape out(a.size(), 1);
  for (int64_t i = 0; i < rankB; ++i) out[static_cast<size_t>(start + i)] = b[static_cast<size_t>(i)];
  return out;
}

std::string shapesString(std::span<const Shape* const> shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? " and " : "") + shapeString(*shapes[i]);
  return s;
}

bool BroadcastPlan::init(const Shape& out, std::span<const Shape* const> inputs) {
  if (inputs.size() > kMaxInputs) return false;
  numInputs_ = inputs.size();
  numel_ = 1;
  for (int64_t d : out) numel_ *= d;
  for (const Shape* s : inputs)
    if (!broadcastsTo(*s, out)) return false;

  // Per output dim (dims of 1 dropped): which inputs are broadcast along it, as a bit mask.
  // Neighbouring dims with the same mask merge into one.
  dims_.clear();
  std::vector<unsigned> masks;
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    unsigned mask = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const Shape& s = *inputs[k];
      const size_t pad = out.size() - s.size();
      if (d < pad || s[d - pad] == 1) mask |= 1u << k;
    }
    if (!masks.empty() && masks.back() == mask) {
      dims_.back() *= out[d];
    } else {
      dims_.push_back(out[d]);
      masks.push_back(mask);
    }
  }
  if (dims_.empty()) {
    dims_.push_back(1);
    masks.push_back((1u << inputs.size()) - 1);
  }
  for (size_t k = 0; k < kMaxInputs; ++k) strides_[k].assign(dims_.size(), 0);
  for (size_t k = 0; k < inputs.size(); ++k) {
    int64_t step = 1;
    for (size_t d = dims_.size(); d-- > 0;) {
      if (masks[d] & (1u << k)) continue;
      strides_[k][d] = step;
      step *= dims_[d];
    }
  }
  return true;
}

namespace {

template <typename T>
void copyRows(const BroadcastPlan& plan, const T* src, T* dst) {
  const bool varies = plan.innerVaries(0);
  plan.run([&](int64_t o, const int64_t* in, int64_t len) {
    if (varies) {
      std::memcpy(dst + o, src + in[0], static_cast<size_t>(len) * sizeof(T));
    } else {
      const T v = src[in[0]];
      std::fill(dst + o, dst + o + len, v);
    }
  });
}

}  // namespace

void broadcastCopy(const void* src, const Shape& srcDims, void* dst, const Shape& outDims, size_t elemSize) {
  BroadcastPlan plan;
  const Shape* in[] = {&srcDims};
  if (!plan.init(outDims, in)) return;  // callers check broadcastsTo first
  switch (elemSize) {
    case 1: copyRows(plan, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst)); return;
    case 2: copyRows(plan, static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst)); return;
    case 4: copyRows(plan, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst)); return;
    case 8: copyRows(plan, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst)); return;
    default: {
      const auto* s = static_cast<const uint8_t*>(src);
      auto* d = static_cast<uint8_t*>(dst);
      const bool varies = plan.innerVaries(0);
      plan.run([&](int64_t o, const int64_t* off, int64_t len) {
        for (int64_t i = 0; i < len; ++i)
          std::memcpy(d + static_cast<size_t>(o + i) * elemSize, s + static_cast<size_t>(off[0] + (varies ? i : 0)) * elemSize,
                      elemSize);
      });
    }
  }
}

}  // namespace effdl::runtime
