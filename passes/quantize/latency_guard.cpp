// Per-layer int8-vs-float timing for --quantize-latency-guard, and the record of its decisions.
#include "passes/quantize/latency_guard.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "ir/attribute_copy.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "runtime/session.h"

namespace effdl::passes::quant {
namespace {

// Copies `n` into `g`: constant inputs as initializers (views on the same storage), activation
// inputs as graph inputs of their calibrated shape, outputs under the same names.
ir::Node* copyNode(ir::Graph& g, const ir::Node& n, const std::map<std::string, std::vector<int64_t>>& shapes,
                   const std::string& layer) {
  std::vector<ir::Value*> ins;
  for (const ir::Value* v : n.inputs()) {
    if (!v) {
      ins.push_back(nullptr);
    } else if (ir::Value* known = g.findValue(v->name())) {
      ins.push_back(known);
    } else if (v->isConstant()) {
      ins.push_back(g.addInitializer(v->name(), v->initializer()));
    } else {
      auto s = shapes.find(v->name());
      if (s == shapes.end()) throwInternal("latency guard: no calibrated shape for '" + v->name() + "' of " + layer);
      std::vector<ir::Dim> dims;
      for (int64_t d : s->second) dims.push_back(ir::Dim::known(d));
      ins.push_back(g.addInput(v->name(), ir::ValueType::tensor(v->type().elemType, dims)));
    }
  }
  std::vector<std::string> outs;
  for (const ir::Value* v : n.outputs()) outs.push_back(v ? v->name() : "");
  ir::Node* c = g.createNode(n.opType(), ins, outs, nullptr, n.domain());
  c->setName(n.name());
  for (const ir::Attribute& a : n.attributes()) c->setAttr(ir::copyWithoutSubgraphs(a));
  return c;
}

// The float one-layer model: inputs -> core [-> folded Relu/Clip] -> Identity -> output. The
// Identity keeps the layer's own output off the graph outputs, so its quantization (and fold)
// is planned as in the whole model.
std::unique_ptr<ir::Model> layerModel(const ir::Model& model, const GuardLayer& l,
                                      const std::map<std::string, std::vector<int64_t>>& shapes) {
  auto m = std::make_unique<ir::Model>();
  m->irVersion = model.irVersion;
  m->opsets = model.opsets;
  ir::Graph& g = *m->graph;
  g.setName("latency_guard_" + l.name);
  ir::Node* last = copyNode(g, *l.core, shapes, l.name);
  if (l.folded) last = copyNode(g, *l.folded, shapes, l.name);
  ir::Node* id = g.createNode("Identity", {last->output(0)}, {"latency_guard_out"});
  ir::ValueType t;
  t.kind = ir::ValueType::Kind::kTensor;
  t.elemType = l.core->output(0)->type().elemType;
  id->output(0)->setType(t);
  g.addOutput(id->output(0));
  return m;
}

// Through ONNX and back: the loader's shape inference types every value, as in a model read
// from a file (kernels such as MatMulInteger pick their fast path from the input's dtype).
std::unique_ptr<ir::Model> reload(const ir::Model& m) {
  const std::string bytes = ir::serializeModel(m);
  return ir::loadModelFromBytes(bytes.data(), bytes.size(), ".", "latency guard: one-layer model '" + m.graph->name() + "'");
}

// Seeded uniform [-1, 1) inputs: the values do not change the kernels' speed.
std::vector<ir::Tensor> layerInputs(const ir::Model& m) {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<ir::Tensor> out;
  for (const ir::Value* v : m.graph->inputs()) {
    auto dims = *v->type().staticShape();
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::vector<float> x(static_cast<size_t>(n));
    for (float& f : x) f = u(rng);
    out.push_back(ir::Tensor::fromVector(ir::DataType::kFloat, dims, x));
  }
  return out;
}

struct GuardDecision {
  std::string layer;
  double fp32Ms, int8Ms;  // NaN when replayed
  bool revert = false;
};

}  // namespace

LayerTiming fastestTiming(const std::string&, const std::function<void()>& runFp32,
                          const std::function<void()>& runInt8) {
  // Interleaved, so a burst of load from elsewhere hits both variants alike; at least 9 pairs,
  // more for short layers (up to ~30 ms of fp32 time or 60 pairs). The fastest run of each counts:
  // on a shared machine noise only adds (a 4 ms time slice of another process lands inside a 2 ms
  // run), and medians flipped decisions between runs (resnet18 conv fp32 medians 2-10 ms at load
  // 6 on 2 cores; the minima stayed within ~10% over three runs, with the same decisions).
  constexpr int kMinPairs = 9, kMaxPairs = 60;
  constexpr double kBudgetMs = 30.0;
  using Clock = std::chrono::steady_clock;
  auto timed = [](const std::function<void()>& f) {
    const auto t0 = Clock::now();
    f();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  for (int i = 0; i < 2; ++i) {  // warm-up: first-run allocations and caches
    runFp32();
    runInt8();
  }
  std::vector<double> a, b;
  double spent = 0;
  for (int i = 0; i < kMaxPairs && (i < kMinPairs || spent < kBudgetMs); ++i) {
    a.push_back(timed(runFp32));
    b.push_back(timed(runInt8));
    spent += a.back();
  }
  return {*std::min_element(a.begin(), a.end()), *std::min_element(b.begin(), b.end())};
}

namespace {

std::vector<GuardDecision> timeLayers(const ir::Model& model, const std::vector<GuardLayer>& layers,
                                      const std::map<std::string, std::vector<int64_t>>& shapes,
                                      const std::function<void(ir::Model&)>& quantizeLayer, const GuardOptions& o) {
  std::vector<GuardDecision> out;
  const LayerTimer timer = o.timer ? o.timer : LayerTimer(fastestTiming);
  for (const GuardLayer& l : layers) {
    auto fp = reload(*layerModel(model, l, shapes));
    auto q = layerModel(model, l, shapes);
    quantizeLayer(*q);
    q = reload(*q);
    const std::vector<ir::Tensor> inputs = layerInputs(*fp);
    std::vector<runtime::NamedInput> named;
    for (size_t i = 0; i < inputs.size(); ++i) named.push_back({fp->graph->inputs()[i]->name(), &inputs[i]});
    runtime::Session sf(*fp, runtime::SessionOptions{o.threads});
    runtime::Session sq(*q, runtime::SessionOptions{o.threads});
    const LayerTiming t = timer(
        l.name, [&] { sf.run(named); }, [&] { sq.run(named); });
    out.push_back({l.name, t.fp32Ms, t.int8Ms, !(t.int8Ms <= t.fp32Ms * (1.0 - o.margin))});
  }
  return out;
}

// The metadata value recording the decisions (depends on the decisions only, not on timings).
std::string guardMetadata(const std::vector<GuardDecision>& decisions) {
  std::string reverted;
  size_t n = 0;
  for (const GuardDecision& d : decisions)
    if (d.revert) reverted += (n++ ? "," : "") + d.layer;
  return "float: " + (n ? reverted : std::string("none")) + " (" + std::to_string(n) + " of " +
         std::to_string(decisions.size()) + " layers)";
}

}  // namespace

std::map<std::string, bool> readGuardDecisions(const std::string& file) {
  std::ifstream f(file);
  if (!f) throwIo(file + ": cannot open the latency-guard decisions (an effdl optimize --json report)");
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const std::exception& e) {
    throwUsage(file + ": not valid JSON: " + std::string(e.what()));
  }
  const std::string notReport =
      file + ": no latency-guard decisions: expected the JSON report of an effdl optimize run with "
             "--quantize-latency-guard (a quantize pass with a \"reverted\" layer column)";
  if (!j.is_object() || !j.contains("passes") || !j["passes"].is_array()) throwUsage(notReport);
  for (const auto& p : j["passes"]) {
    if (!p.is_object() || p.value("name", "") != "quantize" || !p.contains("layers")) continue;
    const auto& layers = p["layers"];
    if (!layers.is_object() || !layers.contains("columns") || !layers["columns"].is_array()) continue;
    const auto& cols = layers["columns"];
    auto it = std::find(cols.begin(), cols.end(), "reverted");
    if (it == cols.end()) continue;
    const size_t col = static_cast<size_t>(it - cols.begin());
    std::map<std::string, bool> out;
    for (const auto& row : layers.value("rows", nlohmann::json::array())) {
      if (!row.is_object() || !row.contains("name") || !row["name"].is_string() || !row.contains("values") ||
          !row["values"].is_array() || row["values"].size() <= col)
        throwUsage(file + ": malformed layer row in the quantize pass");
      const auto& v = row["values"][col];
      if (v.is_number()) out[row["name"].get<std::string>()] = v.get<double>() != 0.0;  // null: not timed
    }
    return out;
  }
  throwUsage(notReport);
}

std::vector<bool> guardLayers(ir::Model& model, const std::vector<GuardLayer>& layers,
                              const std::map<std::string, std::vector<int64_t>>& shapes,
                              const std::function<void(ir::Model&)>& quantizeLayer, const GuardOptions& o,
                              PassResult& r) {
  std::vector<GuardDecision> decisions;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!o.decisionsFile.empty()) {
    const std::map<std::string, bool> replay = readGuardDecisions(o.decisionsFile);
    for (const GuardLayer& l : layers) {
      auto it = replay.find(l.name);
      if (it == replay.end())
        throwUsage("quantize: " + o.decisionsFile + " has no latency-guard decision for layer '" + l.name +
                   "' (made for another model or other flags?)");
      decisions.push_back({l.name, nan, nan, it->second});
    }
  } else {
    decisions = timeLayers(model, layers, shapes, quantizeLayer, o);
  }
  std::vector<bool> keepFloat;
  std::string list;
  size_t reverted = 0;
  for (const GuardDecision& d : decisions) {
    keepFloat.push_back(d.revert);
    if (!d.revert) continue;
    ++reverted;
    char buf[96] = "";
    if (!std::isnan(d.int8Ms)) std::snprintf(buf, sizeof buf, " (int8 %.3g ms vs fp32 %.3g ms)", d.int8Ms, d.fp32Ms);
    list += (list.empty() ? "" : ", ") + d.layer + buf;
  }
  char margin[32];
  std::snprintf(margin, sizeof margin, "%g%%", 100.0 * o.margin);
  if (!o.decisionsFile.empty())
    r.notes.push_back("latency guard: decisions replayed from " + o.decisionsFile + "; kept float " +
                      std::to_string(reverted) + " of " + std::to_string(layers.size()) + " layers" +
                      (list.empty() ? "" : ": " + list));
  else
    r.notes.push_back("latency guard: timed " + std::to_string(layers.size()) +
                      " layers int8 vs float in effdl's runtime (one-layer models, input shapes seen when running the model, fastest of interleaved runs, " +
                      (o.threads > 0 ? std::to_string(o.threads) + " thread(s)" : std::string("all cores")) +
                      "); kept float " + std::to_string(reverted) + " where int8 was not at least " + margin +
                      " faster" + (list.empty() ? "" : ": " + list) +
                      ". Timings vary between runs: replay these decisions with "
                      "--decisions REPORT.json");
  model.setMetadata("effdl.quantize.latency_guard", guardMetadata(decisions));
  // Report columns after any the pass has (static: sqnr_db); NaN where not measured.
  std::map<std::string, size_t> row;
  for (size_t i = 0; i < r.layers.size(); ++i) row[r.layers[i].first] = i;
  const size_t width = r.layerColumns.size();
  for (const char* c : {"fp32_ms", "int8_ms", "reverted"}) r.layerColumns.push_back(c);
  for (auto& l : r.layers) l.second.resize(width + 3, nan);
  for (const GuardDecision& d : decisions) {
    if (!row.count(d.layer)) {
      row[d.layer] = r.layers.size();
      r.layers.push_back({d.layer, std::vector<double>(width + 3, nan)});
    }
    auto& v = r.layers[row[d.layer]].second;
    v[width] = d.fp32Ms;
    v[width + 1] = d.int8Ms;
    v[width + 2] = d.revert ? 1.0 : 0.0;
  }
  return keepFloat;
}

}  // namespace effdl::passes::quant
