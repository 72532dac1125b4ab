#include "variants.h"

#include <unistd.h>

#include <cmath>

#include "core/error.h"
#include "ir/onnx_import.h"
#include "passes/registry.h"
#include "report/model_summary.h"
#include "report/pareto.h"

namespace fs = std::filesystem;

namespace effdl::cli {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '{') ++depth;
    if (i < s.size() && s[i] == '}') --depth;
    if (i == s.size() || (s[i] == sep && depth == 0)) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

const passes::PassInfo* passForFlag(const std::string& flag) {
  for (const auto& p : passes::passRegistry())
    if (!p.cliFlag.empty() && (p.cliFlag == flag || p.name == flag)) return &p;
  return nullptr;
}

// The quality a variant is judged by, and the original's value of it.
double qualityOf(const report::Measurements& m, const std::string& metric) {
  if (metric == "accuracy") return m.accuracyAfter.value_or(NAN);
  if (!m.agreement) return NAN;
  if (metric == "top-1 agreement") return m.agreement->top1Agreement().value_or(NAN);
  return m.agreement->worstCosine();
}

}  // namespace

std::vector<VariantSpec> parseVariants(const std::string& spec, bool haveCalib) {
  std::vector<VariantSpec> out;
  for (const std::string& v : split(spec, ';')) {
    if (v.empty()) throwUsage("--variants '" + spec + "': empty variant");
    VariantSpec vs;
    vs.name = v;
    for (const std::string& item : split(v, '+')) {
      std::string key = item, value, opts;
      size_t brace = key.find('{');
      if (brace != std::string::npos) {
        if (key.back() != '}') throwUsage("--variants: '" + item + "' misses '}'");
        opts = key.substr(brace + 1, key.size() - brace - 2);
        key = key.substr(0, brace);
      }
      size_t eq = key.find('=');
      if (eq != std::string::npos) value = trim(key.substr(eq + 1)), key = trim(key.substr(0, eq));
      key = trim(key);
      if (key == "baseline" || key == "none") continue;
      if (key == "int8") key = "quantize", value = haveCalib ? "static" : "dynamic";
      else if (key == "fp16") key = "quantize", value = "fp16";
      else if (key == "hash") key = "hash-embeddings";
      const passes::PassInfo* info = passForFlag(key);
      if (!info) {
        std::string known;
        for (const auto& p : passes::passRegistry())
          if (!p.cliFlag.empty()) known += (known.empty() ? "" : ", ") + p.cliFlag;
        throwUsage("--variants: unknown item '" + key + "' in '" + v + "' (use " + known + ", int8, fp16 or baseline)");
      }
      auto& options = vs.passes[info->name];
      if (!value.empty()) options[info->primaryOption] = value;
      for (const std::string& kv : split(opts, ',')) {
        if (kv.empty()) continue;
        size_t e = kv.find('=');
        if (e == std::string::npos) throwUsage("--variants: option '" + kv + "' in '" + v + "' needs =value");
        options[trim(kv.substr(0, e))] = trim(kv.substr(e + 1));
      }
    }
    // Pruning's size win is realised by the sparse storage pass, as `--prune` alone would not.
    if (vs.passes.count("prune") && !vs.passes.count("sparse-storage") && passes::findPass("sparse-storage"))
      vs.passes["sparse-storage"] = {};
    passes::fixedOrderPipeline(vs.passes);  // validates pass options now, before any work
    out.push_back(std::move(vs));
  }
  if (out.size() < 2) throwUsage("--variants: give at least two variants separated by ';'");
  return out;
}

SelectRule parseSelect(const std::string& spec) {
  SelectRule r;
  r.text = spec;
  for (const std::string& part : split(spec, ',')) {
    size_t eq = part.find('=');
    std::string k = trim(part.substr(0, eq)), v = eq == std::string::npos ? "" : trim(part.substr(eq + 1));
    if (k == "max-drop") {
      std::string num = v;
      if (!num.empty() && (num.back() == '%')) num.pop_back();
      else if (num.size() > 2 && num.substr(num.size() - 2) == "pt") num.resize(num.size() - 2);
      try {
        size_t used = 0;
        r.maxDrop = std::stod(num, &used);
        if (used != num.size() || r.maxDrop < 0) throw std::invalid_argument("");
      } catch (...) {
        throwUsage("--select: max-drop takes a non-negative number of points, e.g. max-drop=1%");
      }
    } else if (k == "minimize") {
      if (v != "size" && v != "latency") throwUsage("--select: minimize takes size or latency");
      r.minimize = v;
    } else {
      throwUsage("--select: unknown rule '" + part + "' (use max-drop=N% and minimize=size|latency)");
    }
  }
  return r;
}

bool runVariants(const OptimizeJob& job, const std::vector<VariantSpec>& variants, const SelectRule* rule,
                 const fs::path& input, const fs::path& output, report::OptimizeReport& rep) {
  fs::path folder = output.parent_path().empty() ? fs::path(".") : output.parent_path();
  std::vector<fs::path> files;
  struct Cleanup {
    std::vector<fs::path>& files;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& f : files) fs::remove(f, ec);
    }
  } cleanup{files};
  // The quality axis: accuracy with labeled data, else agreement with the original.
  rep.qualityName = job.measure.evalX ? "accuracy" : "top-1 agreement";
  std::optional<double> baselineQuality;
  for (size_t i = 0; i < variants.size(); ++i) {
    report::VariantRecord v;
    v.name = variants[i].name;
    OptimizeJob vj = job;
    vj.pipeline = passes::fixedOrderPipeline(variants[i].passes);
    vj.gates.clear();
    v.pipeline = vj.pipeline.toSpec();
    fs::path tmp = folder / (".effdl-variant-" + std::to_string(::getpid()) + "-" + std::to_string(i) + ".onnx");
    files.push_back(tmp);
    try {
      report::OptimizeReport r = optimizeModel(vj, input, tmp);
      v.after = r.after;
      v.measured = r.measured;
      if (i == 0 || !baselineQuality) {
        rep.before = r.before;
        if (job.measure.evalX && r.measured.accuracyBefore) baselineQuality = *r.measured.accuracyBefore;
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kUsage) throw;
      v.error = e.what();
    }
    rep.variants.push_back(v);
  }
  // Logits-free models have no top-1: judge them by cosine.
  bool anyTop1 = false;
  for (const auto& v : rep.variants) anyTop1 = anyTop1 || (v.measured.agreement && v.measured.agreement->top1Agreement());
  if (rep.qualityName == "top-1 agreement" && !anyTop1) rep.qualityName = "cosine";
  if (rep.qualityName != "accuracy") baselineQuality = 1.0;
  std::vector<report::TradeoffPoint> bySize, byLatency;
  std::vector<size_t> sizeIdx, latIdx;
  for (size_t i = 0; i < rep.variants.size(); ++i) {
    auto& v = rep.variants[i];
    if (!v.error.empty()) continue;
    v.quality = qualityOf(v.measured, rep.qualityName);
    if (std::isnan(v.quality)) continue;
    bySize.push_back({static_cast<double>(v.after.fileBytes), v.quality});
    sizeIdx.push_back(i);
    if (v.measured.after) {
      byLatency.push_back({v.measured.after->p50Ms, v.quality});
      latIdx.push_back(i);
    }
  }
  auto fs1 = report::paretoFrontier(bySize), fs2 = report::paretoFrontier(byLatency);
  for (size_t k = 0; k < sizeIdx.size(); ++k) rep.variants[sizeIdx[k]].sizeFrontier = fs1[k];
  for (size_t k = 0; k < latIdx.size(); ++k) rep.variants[latIdx[k]].latencyFrontier = fs2[k];
  rep.hasAfter = false;
  if (!rule) {
    rep.selection = "";
    return true;
  }
  // The drop is in points of the quality (accuracy or agreement, both fractions here).
  std::optional<size_t> best;
  for (size_t i = 0; i < rep.variants.size(); ++i) {
    const auto& v = rep.variants[i];
    if (!v.error.empty() || std::isnan(v.quality)) continue;
    double drop = (baselineQuality.value_or(1.0) - v.quality) * 100.0;
    if (rule->maxDrop >= 0 && drop > rule->maxDrop + 1e-9) continue;
    double cost = rule->minimize == "latency" ? (v.measured.after ? v.measured.after->p50Ms : INFINITY)
                                              : static_cast<double>(v.after.fileBytes);
    if (std::isinf(cost)) continue;
    if (!best) {
      best = i;
      continue;
    }
    const auto& b = rep.variants[*best];
    double bcost = rule->minimize == "latency" ? b.measured.after->p50Ms : static_cast<double>(b.after.fileBytes);
    if (cost < bcost) best = i;
  }
  if (!best) {
    rep.selection = "--select " + rule->text + ": no variant meets it";
    return false;
  }
  auto& chosen = rep.variants[*best];
  chosen.selected = true;
  rep.selection = "--select " + rule->text + " chose '" + chosen.name + "' (" + chosen.pipeline + ")";
  // The choice may rest on timings: record it in the model so a later reader knows what it is.
  auto model = ir::loadModel(files[*best], job.loadOptions);
  model->setMetadata("effdl.variant", chosen.name);
  model->setMetadata("effdl.pipeline", chosen.pipeline);
  model->setMetadata("effdl.select", rule->text);
  ir::saveModel(*model, output, job.saveOptions);
  rep.after = chosen.after;
  rep.after.fileBytes = report::summarize(*ir::loadModel(output, job.loadOptions), output).fileBytes;
  rep.measured = chosen.measured;
  rep.pipeline = chosen.pipeline;
  rep.hasAfter = true;
  return true;
}

}  // namespace effdl::cli
