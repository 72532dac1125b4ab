// Runs ONNX's backend test cases (libonnx-testdata: node, pytorch-converted, pytorch-operator,
// simple) through effdl's runtime and compares with the expected outputs, using ONNX's tolerances
// (rtol 1e-3, atol 1e-7; looser per-case tolerances are listed in kTolerances with the reason).
// A case whose model effdl's runtime cannot build (no kernel, unsupported attribute or dtype) is
// SKIPPED with the reason, never passed. Prints one line per non-passing case and the totals.
//   effdl_conformance [--filter SUBSTRING] [--verbose] DIR...
// Exit status: 0 when no case failed.
#include <onnx/onnx_pb.h>
// onnx_pb.h first: it defines ONNX_API, which the generated headers use.
#include <onnx/onnx-data.pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "ir/model_validator.h"
#include "ir/onnx_import.h"
#include "ir/proto_convert.h"
#include "runtime/session.h"
#include "runtime/value_types.h"

namespace fs = std::filesystem;
using namespace effdl;

namespace {

struct Tolerance {
  double rtol = 1e-3, atol = 1e-7;
};

// Cases whose expected outputs need looser tolerances than ONNX's defaults, and why.
const std::map<std::string, Tolerance>& tolerances() {
  static const std::map<std::string, Tolerance> t = {};
  return t;
}

std::string readAll(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ir::Tensor tensorFrom(onnx::TensorProto& t, const fs::path& p) {
  ir::validateTensor(t, p.string());
  if (t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL)
    throwUnsupported(p.filename().string() + ": external data in test data");
  return ir::tensorFromProto(t, nullptr);
}

std::shared_ptr<const runtime::Sequence> sequenceFrom(onnx::SequenceProto& sp, const fs::path& p) {
  if (sp.elem_type() != onnx::SequenceProto::TENSOR && sp.elem_type() != onnx::SequenceProto::UNDEFINED)
    throwUnsupported(p.filename().string() + ": a sequence of non-tensors");
  auto s = std::make_shared<runtime::Sequence>();
  for (auto& t : *sp.mutable_tensor_values()) {
    s->items.push_back(tensorFrom(t, p));
    s->elemType = s->items.back().dtype();
  }
  return s;
}

// Reads input_N.pb / output_N.pb (N sorted numerically) as the declared types say: TensorProto,
// SequenceProto or OptionalProto (maps are not supported: kUnsupported).
std::vector<runtime::Value> readSet(const fs::path& dir, const std::string& prefix,
                                    const std::vector<const ir::Value*>& decl) {
  std::vector<std::pair<int, fs::path>> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && e.path().extension() == ".pb")
      files.emplace_back(std::stoi(n.substr(prefix.size())), e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<runtime::Value> out;
  for (const auto& [i, p] : files) {
    const size_t k = static_cast<size_t>(i);
    const runtime::TypeClass c = k < decl.size() ? runtime::classifyType(decl[k]->type()) : runtime::TypeClass::kTensor;
    std::string bytes = readAll(p);
    if (c == runtime::TypeClass::kUnsupported) throwUnsupported(p.filename().string() + ": a map or nested value");
    if (c == runtime::TypeClass::kSequence) {
      onnx::SequenceProto sp;
      if (!sp.ParseFromString(bytes)) throwInvalid(p.string() + ": not a SequenceProto");
      out.push_back(runtime::Value::ofSequence(sequenceFrom(sp, p)));
      continue;
    }
    if (c == runtime::TypeClass::kOptional) {
      onnx::OptionalProto op;
      if (!op.ParseFromString(bytes)) throwInvalid(p.string() + ": not an OptionalProto");
      if (op.has_tensor_value()) out.push_back(runtime::Value::ofTensor(tensorFrom(*op.mutable_tensor_value(), p)));
      else if (op.has_sequence_value()) out.push_back(runtime::Value::ofSequence(sequenceFrom(*op.mutable_sequence_value(), p)));
      else if (op.elem_type() == onnx::OptionalProto::TENSOR || op.elem_type() == onnx::OptionalProto::SEQUENCE ||
               op.elem_type() == onnx::OptionalProto::UNDEFINED)
        out.push_back(runtime::Value::none());
      else throwUnsupported(p.filename().string() + ": an optional of a map or nested value");
      continue;
    }
    onnx::TensorProto t;
    if (!t.ParseFromString(bytes) || (t.dims_size() == 0 && t.data_type() == 0 && !bytes.empty()))
      throwUnsupported(p.filename().string() + " is not a tensor (map input?)");
    out.push_back(runtime::Value::ofTensor(tensorFrom(t, p)));
  }
  return out;
}

template <typename T>
bool closeAs(const ir::Tensor& got, const ir::Tensor& want, const Tolerance& tol, std::string& why) {
  auto g = got.values<T>();
  auto w = want.values<T>();
  for (size_t i = 0; i < w.size(); ++i) {
    double a = static_cast<double>(g[i]), b = static_cast<double>(w[i]);
    if (std::isnan(b) && std::isnan(a)) continue;
    if (std::isinf(b) && a == b) continue;
    if (!(std::fabs(a - b) <= tol.atol + tol.rtol * std::fabs(b))) {
      std::ostringstream ss;
      ss << "element " << i << ": got " << a << ", expected " << b;
      why = ss.str();
      return false;
    }
  }
  return true;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) bits = sign;
    else {
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

bool compare(const ir::Tensor& got, const ir::Tensor& want, const Tolerance& tol, std::string& why) {
  if (got.dtype() != want.dtype()) {
    why = "dtype " + std::string(ir::dtypeName(got.dtype())) + ", expected " + std::string(ir::dtypeName(want.dtype()));
    return false;
  }
  if (got.dims() != want.dims()) {
    std::ostringstream ss;
    ss << "shape [";
    for (auto d : got.dims()) ss << d << ",";
    ss << "], expected [";
    for (auto d : want.dims()) ss << d << ",";
    ss << "]";
    why = ss.str();
    return false;
  }
  switch (want.dtype()) {
    case ir::DataType::kString:
      for (size_t i = 0; i < want.strings().size(); ++i)
        if (i >= got.strings().size() || got.strings()[i] != want.strings()[i]) {
          why = "element " + std::to_string(i) + ": got '" + (i < got.strings().size() ? got.strings()[i] : "") +
                "', expected '" + want.strings()[i] + "'";
          return false;
        }
      return got.strings().size() == want.strings().size();
    case ir::DataType::kFloat: return closeAs<float>(got, want, tol, why);
    case ir::DataType::kDouble: return closeAs<double>(got, want, tol, why);
    case ir::DataType::kBfloat16: {
      // ONNX 1.12's reference truncates float to bfloat16 where runtimes round to nearest: allow
      // one bfloat16 ulp (2^-7 relative).
      auto g = got.values<uint16_t>();
      auto w = want.values<uint16_t>();
      for (size_t i = 0; i < w.size(); ++i) {
        uint32_t gb = static_cast<uint32_t>(g[i]) << 16, wb = static_cast<uint32_t>(w[i]) << 16;
        float a, b;
        std::memcpy(&a, &gb, 4);
        std::memcpy(&b, &wb, 4);
        if (std::isnan(a) && std::isnan(b)) continue;
        if (!(std::fabs(a - b) <= std::fabs(b) / 128.0) && a != b) {
          why = "element " + std::to_string(i) + ": got " + std::to_string(a) + ", expected " + std::to_string(b);
          return false;
        }
      }
      return true;
    }
    case ir::DataType::kFloat16: {
      auto g = got.values<uint16_t>();
      auto w = want.values<uint16_t>();
      for (size_t i = 0; i < w.size(); ++i) {
        double a = halfToFloat(g[i]), b = halfToFloat(w[i]);
        if (std::isnan(a) && std::isnan(b)) continue;
        if (!(std::fabs(a - b) <= tol.atol + tol.rtol * std::fabs(b)) && a != b) {
          why = "element " + std::to_string(i) + ": got " + std::to_string(a) + ", expected " + std::to_string(b);
          return false;
        }
      }
      return true;
    }
    default:
      if (got.nbytes() != want.nbytes() ||
          (got.nbytes() > 0 && std::memcmp(got.data(), want.data(), got.nbytes()) != 0)) {
        why = "values differ (exact comparison for " + std::string(ir::dtypeName(want.dtype())) + ")";
        return false;
      }
      return true;
  }
}

// Tensors as above; sequences item by item; an empty optional only matches an empty one.
bool compareValues(const runtime::Value& got, const runtime::Value& want, const Tolerance& tol, std::string& why) {
  if (got.kind != want.kind) {
    why = std::string("a ") + runtime::kindName(got.kind) + ", expected a " + runtime::kindName(want.kind);
    return false;
  }
  if (want.kind == runtime::ValueKind::kNone) return true;
  if (want.kind == runtime::ValueKind::kTensor) {
    ir::Tensor w = want.tensor;
    // ONNX's test data stores bfloat16 tensors as uint16 (same bits): relabel them.
    if (w.dtype() == ir::DataType::kUint16 && got.tensor.dtype() == ir::DataType::kBfloat16)
      w = ir::Tensor::fromBytes(ir::DataType::kBfloat16, w.dims(), w.data(), w.nbytes());
    return compare(got.tensor, w, tol, why);
  }
  const auto& g = got.seq->items;
  const auto& w = want.seq->items;
  if (g.size() != w.size()) {
    why = "a sequence of " + std::to_string(g.size()) + ", expected " + std::to_string(w.size());
    return false;
  }
  for (size_t i = 0; i < w.size(); ++i)
    if (!compare(g[i], w[i], tol, why)) {
      why = "item " + std::to_string(i) + ": " + why;
      return false;
    }
  return true;
}

enum class Outcome { kPass, kFail, kSkip };

// Cases whose test data contradicts their own model (ONNX 1.12), skipped with the reason.
const std::map<std::string, std::string>& brokenTestData() {
  static const std::map<std::string, std::string> cases = {
      {"test_castlike_BFLOAT16_to_FLOAT", "input 'like' is [1] in the test data but [3,4] in the model"},
      {"test_castlike_BFLOAT16_to_FLOAT_expanded", "input 'like' is [1] in the test data but [3,4] in the model"},
      {"test_castlike_FLOAT_to_BFLOAT16", "input 'like' is [1] in the test data but [3,4] in the model"},
      {"test_castlike_FLOAT_to_BFLOAT16_expanded", "input 'like' is [1] in the test data but [3,4] in the model"},
  };
  return cases;
}

Outcome runCase(const fs::path& caseDir, std::string& message) {
  auto broken = brokenTestData().find(caseDir.filename().string());
  if (broken != brokenTestData().end()) {
    message = "broken test data: " + broken->second;
    return Outcome::kSkip;
  }
  try {
    auto model = ir::loadModel(caseDir / "model.onnx");
    runtime::Session session(*model, runtime::SessionOptions{1});
    for (const auto& e : fs::directory_iterator(caseDir)) {
      if (!e.is_directory() || e.path().filename().string().rfind("test_data_set_", 0) != 0) continue;
      const auto& ins = session.inputs();
      auto inputs = readSet(e.path(), "input_", ins);
      auto expected = readSet(e.path(), "output_", session.outputs());
      std::vector<runtime::NamedValue> named;
      // Test data may omit trailing optional inputs or feed initializer-backed ones.
      if (inputs.size() < ins.size()) throwUnsupported("test data has fewer inputs than the model");
      for (size_t i = 0; i < ins.size(); ++i) {
        // ONNX's test data stores bfloat16 tensors as uint16 (same bits): relabel them.
        ir::Tensor& t = inputs[i].tensor;
        if (inputs[i].kind == runtime::ValueKind::kTensor && t.dtype() == ir::DataType::kUint16 &&
            ins[i]->type().elemType == ir::DataType::kBfloat16)
          t = ir::Tensor::fromBytes(ir::DataType::kBfloat16, t.dims(), t.data(), t.nbytes());
        named.push_back({ins[i]->name(), &inputs[i]});
      }
      auto outputs = session.runValues(named);
      if (outputs.size() < expected.size()) {
        message = "fewer outputs than expected";
        return Outcome::kFail;
      }
      Tolerance tol;
      auto it = tolerances().find(caseDir.filename().string());
      if (it != tolerances().end()) tol = it->second;
      for (size_t i = 0; i < expected.size(); ++i) {
        std::string why;
        if (!compareValues(outputs[i], expected[i], tol, why)) {
          message = e.path().filename().string() + " output " + std::to_string(i) + ": " + why;
          return Outcome::kFail;
        }
      }
    }
    return Outcome::kPass;
  } catch (const Error& e) {
    message = e.what();
    if (e.kind() == ErrorKind::kUnsupported) return Outcome::kSkip;
    return Outcome::kFail;
  } catch (const std::exception& e) {
    message = std::string("exception: ") + e.what();
    return Outcome::kFail;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string filter;
  bool verbose = false;
  std::vector<fs::path> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else if (a == "--verbose") verbose = true;
    else dirs.emplace_back(a);
  }
  int passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int> skipReasons;
  for (const auto& dir : dirs) {
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_directory() && e.path().filename().string().find(filter) != std::string::npos) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    int p = 0, f = 0, s = 0;
    for (const auto& c : cases) {
      std::string msg;
      Outcome o = runCase(c, msg);
      std::string name = dir.filename().string() + "/" + c.filename().string();
      if (o == Outcome::kPass) {
        ++p;
        if (verbose) std::cout << "PASS " << name << "\n";
      } else if (o == Outcome::kFail) {
        ++f;
        std::cout << "FAIL " << name << ": " << msg << "\n";
      } else {
        ++s;
        if (verbose) std::cout << "SKIP " << name << ": " << msg << "\n";
        // Group skips by their reason without the node name, e.g. "(LSTM, opset 14): no kernel".
        auto pos = msg.find(" (");
        skipReasons[pos == std::string::npos ? msg : msg.substr(pos + 1)]++;
      }
    }
    std::cout << dir.filename().string() << ": " << p << " passed, " << f << " failed, " << s << " skipped of "
              << cases.size() << "\n";
    passed += p;
    failed += f;
    skipped += s;
  }
  if (!skipReasons.empty()) {
    std::cout << "skipped, by reason:\n";
    std::vector<std::pair<int, std::string>> v;
    for (const auto& [k, n] : skipReasons) v.emplace_back(n, k);
    std::sort(v.rbegin(), v.rend());
    for (const auto& [n, k] : v) std::cout << "  " << n << "  " << k.substr(0, 150) << "\n";
  }
  std::cout << "conformance: " << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed == 0 ? 0 : 1;
}
