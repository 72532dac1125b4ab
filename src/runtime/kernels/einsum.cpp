// Einsum by a loop nest over the union of the equation's labels: output labels outside, summed
// labels inside, a per-input stride for each label (a repeated label in one term adds its strides:
// a diagonal). General and simple rather than fast; it covers matmul-like, batched, "...",
// transposes, sums, traces, diagonals and outer products alike.
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

// A term of the equation: labels 0-51 for letters, kEllipsis where "..." stands.
constexpr int kEllipsis = -1;
using Term = std::vector<int>;

int labelOf(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -2;
}

struct Equation {
  std::vector<Term> inputs;
  std::optional<Term> output;  // nullopt: implicit (numpy's rules)
};

// Parses "ij,jk->ik" (spaces allowed); nullopt with `why` set on a malformed equation.
std::optional<Equation> parseEquation(const std::string& text, std::string& why) {
  std::string s;
  for (char c : text)
    if (c != ' ') s += c;
  Equation eq;
  auto parseTerm = [&](const std::string& t) -> std::optional<Term> {
    Term term;
    bool ellipsis = false;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t.compare(i, 3, "...") == 0) {
        if (ellipsis) return std::nullopt;
        ellipsis = true;
        term.push_back(kEllipsis);
        i += 2;
        continue;
      }
      const int l = labelOf(t[i]);
      if (l < 0) return std::nullopt;
      term.push_back(l);
    }
    return term;
  };
  const size_t arrow = s.find("->");
  const std::string lhs = s.substr(0, arrow);
  size_t start = 0;
  for (;;) {
    const size_t comma = lhs.find(',', start);
    auto term = parseTerm(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!term) {
      why = "malformed term in equation '" + text + "'";
      return std::nullopt;
    }
    eq.inputs.push_back(*term);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (arrow != std::string::npos) {
    auto out = parseTerm(s.substr(arrow + 2));
    if (!out) {
      why = "malformed output term in equation '" + text + "'";
      return std::nullopt;
    }
    for (size_t i = 0; i < out->size(); ++i)
      for (size_t j = i + 1; j < out->size(); ++j)
        if ((*out)[i] == (*out)[j]) {
          why = "repeated output label in equation '" + text + "'";
          return std::nullopt;
        }
    eq.output = *out;
  }
  return eq;
}

class EinsumKernel : public Kernel {
 public:
  explicit EinsumKernel(Equation eq) : eq_(std::move(eq)) {}
  void run(KernelIo& io) override {
    const size_t n = eq_.inputs.size();
    if (io.numInputs() != n)
      throwRunError(
          io, "the equation has " + std::to_string(n) + " terms for " + std::to_string(io.numInputs()) + " inputs");
    std::vector<const RtTensor*> ins;
    for (size_t i = 0; i < n; ++i) {
      ins.push_back(&requireInput(io, i));
      if (ins[i]->dtype != ins[0]->dtype) throwRunError(io, "inputs have different types");
    }
    // Labels: 52 letters, then one per ellipsis dim (right-aligned, broadcast as numpy).
    constexpr int kLetters = 52;
    size_t ellRank = 0;
    std::vector<size_t> ellOf(n, 0);
    for (size_t i = 0; i < n; ++i) {
      const Term& t = eq_.inputs[i];
      const bool hasEll = std::count(t.begin(), t.end(), kEllipsis) != 0;
      const size_t letters = t.size() - (hasEll ? 1 : 0);
      if (ins[i]->rank() < letters || (!hasEll && ins[i]->rank() != letters))
        throwRunError(
            io, "input " + std::to_string(i) + " of shape " + shapeString(ins[i]->dims) + " does not match its term");
      ellOf[i] = ins[i]->rank() - letters;
      ellRank = std::max(ellRank, ellOf[i]);
    }
    const size_t numLabels = kLetters + ellRank;
    std::vector<int64_t> size(numLabels, -1);
    std::vector<int> count(numLabels, 0);
    // strides[i][label]: how far input i moves when the label advances.
    std::vector<std::vector<int64_t>> strides(n, std::vector<int64_t>(numLabels, 0));
    for (size_t i = 0; i < n; ++i) {
      const auto st = contiguousStrides(ins[i]->dims);
      size_t axis = 0;
      for (int l : eq_.inputs[i]) {
        if (l == kEllipsis) {
          for (size_t e = 0; e < ellOf[i]; ++e, ++axis) {
            const size_t label = kLetters + (ellRank - ellOf[i]) + e;
            const int64_t d = ins[i]->dims[axis];
            if (d != 1) {
              if (size[label] > 1 && size[label] != d) throwRunError(io, "the inputs' ... dims do not broadcast");
              size[label] = d;
              strides[i][label] = st[axis];
            } else if (size[label] < 0) {
              size[label] = 1;
            }
            ++count[label];
          }
          continue;
        }
        const size_t label = static_cast<size_t>(l);
        const int64_t d = ins[i]->dims[axis];
        if (size[label] >= 0 && size[label] != d)
          throwRunError(io, "label '" + std::string(1, labelName(l)) + "' has sizes " + std::to_string(size[label]) +
                                " and " + std::to_string(d));
        size[label] = d;
        strides[i][label] += st[axis];
        ++count[label];
        ++axis;
      }
    }
    // The output labels, explicit or numpy's implicit ones (... first, then letters used once).
    std::vector<size_t> outLabels;
    auto pushEllipsis = [&] {
      for (size_t e = 0; e < ellRank; ++e) outLabels.push_back(kLetters + e);
    };
    if (eq_.output) {
      for (int l : *eq_.output) {
        if (l == kEllipsis) {
          pushEllipsis();
          continue;
        }
        if (size[static_cast<size_t>(l)] < 0)
          throwRunError(io, "output label '" + std::string(1, labelName(l)) + "' is not in any input");
        outLabels.push_back(static_cast<size_t>(l));
      }
    } else {
      pushEllipsis();
      for (int l = 26; l < kLetters; ++l)  // upper case sorts first, as numpy's
        if (count[static_cast<size_t>(l)] == 1) outLabels.push_back(static_cast<size_t>(l));
      for (int l = 0; l < 26; ++l)
        if (count[static_cast<size_t>(l)] == 1) outLabels.push_back(static_cast<size_t>(l));
    }
    std::vector<size_t> sumLabels;
    for (size_t l = 0; l < numLabels; ++l)
      if (size[l] >= 0 && std::find(outLabels.begin(), outLabels.end(), l) == outLabels.end()) sumLabels.push_back(l);

    Shape dims;
    for (size_t l : outLabels) dims.push_back(size[l]);
    int64_t work = 1;
    for (size_t l = 0; l < numLabels; ++l) {
      auto w = size[l] >= 0 ? checkedMul(work, size[l]) : std::optional<int64_t>(work);
      if (!w) throwRunError(io, "the loop nest is too large");
      work = *w;
    }
    RtTensor& y = io.allocOutput(0, ins[0]->dtype, dims);
    if (y.nbytes == 0) return;
    const bool ok = dispatchNumeric(ins[0]->dtype, [&](auto tag) {
      using T = decltype(tag);
      compute<T>(ins, strides, size, outLabels, sumLabels, static_cast<T*>(y.data));
    });
    if (!ok) throwRunError(io, "unsupported type " + std::string(ir::dtypeName(ins[0]->dtype)));
  }

 private:
  static char labelName(int l) { return l < 26 ? static_cast<char>('a' + l) : static_cast<char>('A' + l - 26); }

  template <typename T>
  static void compute(const std::vector<const RtTensor*>& ins, const std::vector<std::vector<int64_t>>& strides,
                      const std::vector<int64_t>& size, const std::vector<size_t>& outLabels,
                      const std::vector<size_t>& sumLabels, T* out) {
    using A = Arith<T>;
    using C = typename A::Compute;
    const size_t n = ins.size();
    std::vector<const T*> base(n);
    for (size_t i = 0; i < n; ++i) base[i] = static_cast<const T*>(ins[i]->data);
    // Odometers over the output and the summed labels: an index per label, an offset per input.
    std::vector<int64_t> outOff(n, 0), sumOff(n, 0), outIdx(outLabels.size(), 0), sumIdx(sumLabels.size(), 0);
    auto advance = [&](const std::vector<size_t>& labels, std::vector<int64_t>& idx, std::vector<int64_t>& off) {
      for (size_t k = labels.size(); k-- > 0;) {
        const size_t l = labels[k];
        if (++idx[k] < size[l]) {
          for (size_t i = 0; i < n; ++i) off[i] += strides[i][l];
          return true;
        }
        for (size_t i = 0; i < n; ++i) off[i] -= strides[i][l] * (size[l] - 1);
        idx[k] = 0;
      }
      return false;
    };
    bool emptySum = false;
    for (size_t l : sumLabels) emptySum = emptySum || size[l] == 0;
    int64_t pos = 0;
    do {
      C acc{};
      if (!emptySum) {
        std::fill(sumOff.begin(), sumOff.end(), 0);
        std::fill(sumIdx.begin(), sumIdx.end(), 0);
        do {
          C prod = A::load(base[0][outOff[0] + sumOff[0]]);
          for (size_t i = 1; i < n; ++i) prod = wrapMul(prod, A::load(base[i][outOff[i] + sumOff[i]]));
          acc = wrapAdd(acc, prod);
        } while (advance(sumLabels, sumIdx, sumOff));
      }
      out[pos++] = A::store(acc);
    } while (advance(outLabels, outIdx, outOff));
  }

  Equation eq_;
};

std::unique_ptr<Kernel> makeEinsum(const KernelBuildContext& ctx) {
  const ir::Attribute* a = ctx.node.attr("equation");
  if (!a || a->type != ir::AttrType::kString) ctx.invalid("the equation attribute is missing");
  std::string why;
  auto eq = parseEquation(a->s, why);
  if (!eq) ctx.invalid(why);
  if (eq->inputs.size() != ctx.numInputs())
    ctx.invalid("the equation has " + std::to_string(eq->inputs.size()) + " terms for " +
                std::to_string(ctx.numInputs()) + " inputs");
  return std::make_unique<EinsumKernel>(std::move(*eq));
}

}  // namespace

void registerEinsumKernels(KernelRegistry& r) { r.add(KernelEntry{"", "Einsum", 12, 1000, makeEinsum}); }

}  // namespace effdl::runtime
