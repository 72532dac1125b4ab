// Seeded random inputs (see random_inputs.h). Deterministic: a fixed generator (splitmix64),
// not std:: distributions whose output differs between standard libraries.
#include "runtime/random_inputs.h"

#include <cstring>
#include <optional>

#include "core/checked_math.h"
#include "core/error.h"
#include "runtime/limits.h"

namespace effdl::runtime {
namespace {

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
};

bool passesIndices(const std::string& op) {
  return op == "Cast" || op == "Reshape" || op == "Unsqueeze" || op == "Squeeze" || op == "Flatten" ||
         op == "Identity";
}

void collectBounds(const ir::Value& v, std::optional<int64_t>& bound, int depth) {
  if (depth > 8) return;
  for (const ir::Use& u : v.uses()) {
    const ir::Node* n = u.node;
    if (u.index < 0) continue;
    if (n->opType() == "Gather" && u.index == 1) {
      const ir::Value* data = n->input(0);
      int64_t axis = n->attrInt("axis", 0);
      auto shape = data ? data->type().staticShape() : std::nullopt;
      if (!shape) continue;
      int64_t rank = static_cast<int64_t>(shape->size());
      if (axis < 0) axis += rank;
      if (axis < 0 || axis >= rank) continue;
      int64_t size = (*shape)[static_cast<size_t>(axis)];
      if (!bound || size < *bound) bound = size;
    } else if (passesIndices(n->opType()) && u.index == 0 && n->output(0)) {
      collectBounds(*n->output(0), bound, depth + 1);
    }
  }
}

template <typename T>
void fillInts(ir::Tensor& t, SplitMix64& rng, int64_t bound) {
  T* p = reinterpret_cast<T*>(const_cast<uint8_t*>(t.data()));
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(rng.next() % static_cast<uint64_t>(bound));
}

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (exp <= 0) return static_cast<uint16_t>(sign);  // tiny: flush to zero (inputs are in [-1, 1))
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13));
}

}  // namespace

std::optional<int64_t> gatherIndexBound(const ir::Value& v) {
  std::optional<int64_t> bound;
  collectBounds(v, bound, 0);
  return bound;
}

std::vector<std::pair<std::string, ir::Tensor>> makeRandomInputs(const ir::Model& model,
                                                                 const RandomInputOptions& options) {
  std::vector<std::pair<std::string, ir::Tensor>> out;
  SplitMix64 rng{options.seed * 0x2545F4914F6CDD1Dull + 1};
  for (const ir::Value* v : model.graph->inputs()) {
    if (v->isInitializer()) continue;
    const ir::ValueType& type = v->type();
    if (type.kind != ir::ValueType::Kind::kTensor || !type.shape)
      throwUnsupported("input '" + v->name() + "': random inputs need a tensor type with a known rank");
    std::vector<int64_t> dims;
    for (const ir::Dim& d : *type.shape) {
      if (d.value) {
        dims.push_back(*d.value);
        continue;
      }
      // A named dim defaults to 1; an anonymous one cannot be bound with --dim, so 1 would be a
      // silent guess the user cannot override.
      if (d.param.empty())
        throwUsage("input '" + v->name() + "': dim " + std::to_string(dims.size()) +
                   " has neither a size nor a name, so --dim cannot bind it; give it a size or a name in the model, "
                   "or pass the input as a file (effdl run --input " + v->name() + "=FILE)");
      auto it = options.dims.find(d.param);
      dims.push_back(it != options.dims.end() ? it->second : 1);
    }
    auto count = checkedElementCount(dims);
    size_t esize = ir::dtypeSize(type.elemType);
    if (esize == 0) throwUnsupported("input '" + v->name() + "': cannot make random values of this type");
    // A declared input shape is untrusted like any other: checked against the runtime's tensor
    // limit (--max-tensor-bytes) before anything is allocated (found by fuzz_text: float[888888888883]).
    auto bytes = count ? checkedMul(*count, static_cast<int64_t>(esize)) : std::nullopt;
    if (!bytes || *bytes > runtimeMaxTensorBytes())
      throwInvalid("input '" + v->name() + "': its declared shape asks for more than the runtime's tensor size limit of " +
                   std::to_string(runtimeMaxTensorBytes()) + " bytes (--max-tensor-bytes)");
    ir::Tensor t = ir::Tensor::adopt(type.elemType, dims, std::vector<uint8_t>(static_cast<size_t>(*bytes)));
    auto* p = const_cast<uint8_t*>(t.data());
    int64_t n = t.numel();
    std::optional<int64_t> bound = gatherIndexBound(*v);
    int64_t intBound = bound && *bound > 0 ? *bound : 10;
    switch (type.elemType) {
      case ir::DataType::kFloat:
        for (int64_t i = 0; i < n; ++i) reinterpret_cast<float*>(p)[i] = static_cast<float>(rng.unit() * 2 - 1);
        break;
      case ir::DataType::kDouble:
        for (int64_t i = 0; i < n; ++i) reinterpret_cast<double*>(p)[i] = rng.unit() * 2 - 1;
        break;
      case ir::DataType::kFloat16:
        for (int64_t i = 0; i < n; ++i)
          reinterpret_cast<uint16_t*>(p)[i] = floatToHalf(static_cast<float>(rng.unit() * 2 - 1));
        break;
      case ir::DataType::kBool:
        for (int64_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(rng.next() & 1);
        break;
      case ir::DataType::kInt64: fillInts<int64_t>(t, rng, intBound); break;
      case ir::DataType::kInt32: fillInts<int32_t>(t, rng, intBound); break;
      case ir::DataType::kInt16: fillInts<int16_t>(t, rng, std::min<int64_t>(intBound, 32767)); break;
      case ir::DataType::kInt8: fillInts<int8_t>(t, rng, std::min<int64_t>(intBound, 127)); break;
      case ir::DataType::kUint8: fillInts<uint8_t>(t, rng, std::min<int64_t>(intBound, 255)); break;
      case ir::DataType::kUint16: fillInts<uint16_t>(t, rng, std::min<int64_t>(intBound, 65535)); break;
      case ir::DataType::kUint32: fillInts<uint32_t>(t, rng, intBound); break;
      case ir::DataType::kUint64: fillInts<uint64_t>(t, rng, intBound); break;
      default: throwUnsupported("input '" + v->name() + "': cannot make random values of this type");
    }
    out.emplace_back(v->name(), std::move(t));
  }
  return out;
}

}  // namespace effdl::runtime
