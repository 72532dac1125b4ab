// Renders the optimize report (table and JSON).
#include "report/optimize_report.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "report/table.h"

namespace effdl::report {
namespace {

nlohmann::json summaryJson(const ModelSummary& s) {
  return {{"file_bytes", s.fileBytes},
          {"external_data_bytes", s.externalBytes},
          {"parameters", s.parameters},
          {"weight_bytes", s.weightBytes},
          {"nodes", s.nodes},
          {"macs", s.macs},
          {"flops", s.flops},
          {"unknown_cost_nodes", s.unknownCostNodes},
          {"peak_activation_bytes", s.peakActivationBytes},
          {"unknown_activation_values", s.unknownActivationValues}};
}

void addMeasuredRows(const Measurements& m, Table& t) {
  if (m.before && m.after) {
    const Tone p = Tone::kPlain;
    t.addRow({"latency p50 (" + std::to_string(m.threads) + "T)", formatMs(m.before->p50Ms), formatMs(m.after->p50Ms),
              formatRatio(m.after->p50Ms, m.before->p50Ms)},
             {p, p, p, lowerIsBetter(m.after->p50Ms, m.before->p50Ms)});
    t.addRow({"latency p90", formatMs(m.before->p90Ms), formatMs(m.after->p90Ms),
              formatRatio(m.after->p90Ms, m.before->p90Ms)},
             {p, p, p, lowerIsBetter(m.after->p90Ms, m.before->p90Ms)});
    const double ab = static_cast<double>(m.before->activationBytes), aa = static_cast<double>(m.after->activationBytes);
    t.addRow({"measured memory", formatBytes(m.before->activationBytes), formatBytes(m.after->activationBytes),
              formatRatio(aa, ab)},
             {p, p, p, lowerIsBetter(aa, ab)});
  }
  if (m.accuracyBefore && m.accuracyAfter) {
    char drop[32];
    const double points = (*m.accuracyAfter - *m.accuracyBefore) * 100.0;
    std::snprintf(drop, sizeof drop, "%+.2f pt", points);
    // As printed: a change that rounds to 0.00 pt is neither better nor worse.
    const double shown = std::round(points * 100.0) / 100.0;
    const Tone tone = shown > 0 ? Tone::kGood : shown < 0 ? Tone::kBad : Tone::kPlain;
    t.addRow({"accuracy", formatPercent(*m.accuracyBefore), formatPercent(*m.accuracyAfter), drop},
             {Tone::kPlain, Tone::kPlain, Tone::kPlain, tone});
  }
}

nlohmann::json measuredJson(const Measurements& m) {
  nlohmann::json j;
  j["threads"] = m.threads;
  j["iterations"] = m.iterations;
  auto lat = [](const std::optional<Latency>& l) -> nlohmann::json {
    if (!l) return nullptr;
    return {{"p50_ms", l->p50Ms}, {"p90_ms", l->p90Ms}, {"activation_bytes", l->activationBytes}};
  };
  j["latency_before"] = lat(m.before);
  j["latency_after"] = lat(m.after);
  if (m.agreement) {
    nlohmann::json a;
    a["inputs"] = m.fidelityInputs;
    a["samples"] = m.agreement->samples;
    a["max_abs_error"] = m.agreement->maxAbsError();
    a["cosine"] = m.agreement->worstCosine();
    auto top1 = m.agreement->top1Agreement();
    a["top1_agreement"] = top1 ? nlohmann::json(*top1) : nlohmann::json(nullptr);
    a["outputs"] = nlohmann::json::array();
    for (const auto& o : m.agreement->outputs) {
      a["outputs"].push_back({{"name", o.name},
                              {"max_abs_error", o.maxAbsError},
                              {"reference_scale", o.referenceScale},
                              {"cosine", o.cosine},
                              {"worst_sample_cosine", o.worstCosine},
                              {"top1_agreement", o.top1Agreement ? nlohmann::json(*o.top1Agreement) : nlohmann::json(nullptr)}});
    }
    j["agreement"] = a;
  } else {
    j["agreement"] = nullptr;
  }
  if (m.accuracyBefore && m.accuracyAfter)
    j["accuracy"] = {{"before", *m.accuracyBefore}, {"after", *m.accuracyAfter}, {"samples", m.accuracySamples}};
  else
    j["accuracy"] = nullptr;
  j["not_measured"] = m.notMeasured;
  return j;
}

}  // namespace

void renderOptimizeTable(const OptimizeReport& r, std::ostream& os, bool color) {
  os << r.input << " -> " << r.output << "\n";
  os << "pipeline: " << r.pipeline << "\n\n";
  if (!r.hasAfter) {
    os << "original: " << formatBytes(r.before.fileBytes) << ", " << formatCount(static_cast<double>(r.before.parameters))
       << " parameters, " << formatCount(static_cast<double>(r.before.macs)) << " MACs\n";
  }
  Table t({"", "before", "after", "ratio"}, {false, true, true, true});
  const ModelSummary& b = r.before;
  const ModelSummary& a = r.after;
  auto d = [](auto v) { return static_cast<double>(v); };
  // Footprint rows: smaller is better, so the ratio cell is green below 1.00x and red above.
  auto row = [&](const std::string& name, const std::string& before, const std::string& after, double av, double bv) {
    t.addRow({name, before, after, formatRatio(av, bv)}, {Tone::kPlain, Tone::kPlain, Tone::kPlain, lowerIsBetter(av, bv)});
  };
  row("file size", formatBytes(b.fileBytes), formatBytes(a.fileBytes), d(a.fileBytes), d(b.fileBytes));
  row("parameters", formatCount(d(b.parameters)), formatCount(d(a.parameters)), d(a.parameters), d(b.parameters));
  row("nodes", std::to_string(b.nodes), std::to_string(a.nodes), d(a.nodes), d(b.nodes));
  row("MACs", formatCount(d(b.macs)), formatCount(d(a.macs)), d(a.macs), d(b.macs));
  row("FLOPs", formatCount(d(b.flops)), formatCount(d(a.flops)), d(a.flops), d(b.flops));
  row("peak activations", formatBytes(static_cast<uint64_t>(b.peakActivationBytes)),
      formatBytes(static_cast<uint64_t>(a.peakActivationBytes)), d(a.peakActivationBytes), d(b.peakActivationBytes));
  addMeasuredRows(r.measured, t);
  if (r.hasAfter) t.print(os, "", color);
  if (const auto& ag = r.measured.agreement) {
    os << "agreement with the original (" << r.measured.fidelityInputs << "): max abs error "
       << formatSci(ag->maxAbsError()) << ", cosine " << formatSci(ag->worstCosine());
    if (auto top1 = ag->top1Agreement()) os << ", top-1 agreement " << formatPercent(*top1);
    os << "\n";
  }
  for (const auto& why : r.measured.notMeasured) os << "not measured: " << why << "\n";
  for (const auto& g : r.gates)
    os << (g.failed ? paint("gate FAILED:", Tone::kBad, color) : paint("gate ok:", Tone::kGood, color)) << " " << g.reason
       << "\n";
  if (!r.variants.empty()) {
    os << "\n";
    Table v({"variant", "size", "ratio", "latency p50", r.qualityName, "Pareto (size / latency)"},
            {false, true, true, true, true, false});
    for (const auto& x : r.variants) {
      if (!x.error.empty()) {
        v.addRow({x.name, "-", "-", "-", "-", "failed: " + x.error},
                 {Tone::kPlain, Tone::kPlain, Tone::kPlain, Tone::kPlain, Tone::kPlain, Tone::kBad});
        continue;
      }
      std::string front = std::string(x.sizeFrontier ? "*" : "-") + " / " + (x.latencyFrontier ? "*" : "-");
      const double size = static_cast<double>(x.after.fileBytes), base = static_cast<double>(r.before.fileBytes);
      const Tone p = Tone::kPlain;
      v.addRow({x.name + (x.selected ? " <- selected" : ""), formatBytes(x.after.fileBytes), formatRatio(size, base),
                x.measured.after ? formatMs(x.measured.after->p50Ms) : "-", formatSci(x.quality), front},
               {x.selected ? Tone::kGood : p, p, lowerIsBetter(size, base), p, p,
                x.sizeFrontier || x.latencyFrontier ? Tone::kGood : p});
    }
    v.print(os, "", color);
    if (!r.selection.empty()) os << r.selection << "\n";
  }
  if (b.unknownCostNodes > 0 || a.unknownCostNodes > 0)
    os << "(FLOPs/MACs leave out " << b.unknownCostNodes << " -> " << a.unknownCostNodes
       << " nodes with unknown shapes or no cost rule; bind dims with --dim NAME=VALUE)\n";
  if (r.passes.empty()) return;  // --variants: each variant's pipeline is in its row
  os << "\n";
  Table p({"pass", "nodes", "time", "changes"}, {false, true, true, false});
  for (const auto& pr : r.passes) {
    std::string changes;
    for (const auto& [k, v] : pr.counters) changes += (changes.empty() ? "" : ", ") + k + " " + std::to_string(v);
    for (const auto& [k, v] : pr.declined)
      changes += (changes.empty() ? "" : ", ") + std::string("declined ") + std::to_string(v) + " (" + k + ")";
    if (changes.empty()) changes = "no change";
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f ms", pr.seconds * 1e3);
    p.addRow({pr.name, std::to_string(pr.nodesBefore) + " -> " + std::to_string(pr.nodesAfter), ms, changes});
  }
  p.print(os);
  for (const auto& pr : r.passes)
    for (const auto& n : pr.notes) os << pr.name << ": " << n << "\n";
  // Per-layer details, the first rows of each pass (all of them in --json).
  constexpr size_t kMaxLayerRows = 12;
  for (const auto& pr : r.passes) {
    if (pr.layers.empty()) continue;
    std::vector<std::string> head{pr.name + " layer"};
    std::vector<bool> right{false};
    for (const auto& c : pr.layerColumns) {
      head.push_back(c);
      right.push_back(true);
    }
    Table l(head, right);
    for (size_t i = 0; i < pr.layers.size() && i < kMaxLayerRows; ++i) {
      std::vector<std::string> row{pr.layers[i].first};
      for (double v : pr.layers[i].second) row.push_back(formatSci(v));
      l.addRow(row);
    }
    os << "\n";
    l.print(os);
    if (pr.layers.size() > kMaxLayerRows) os << "(" << pr.layers.size() - kMaxLayerRows << " more rows in --json)\n";
  }
}

void renderOptimizeJson(const OptimizeReport& r, std::ostream& os) {
  nlohmann::json j;
  j["schema_version"] = kReportSchemaVersion;
  j["command"] = "optimize";
  bool ok = true;
  for (const auto& g : r.gates) ok = ok && !g.failed;
  j["ok"] = ok;
  j["input"] = r.input;
  j["output"] = r.output;
  j["pipeline"] = r.pipeline;
  j["before"] = summaryJson(r.before);
  j["after"] = summaryJson(r.after);
  j["passes"] = nlohmann::json::array();
  for (const auto& p : r.passes) {
    nlohmann::json pj;
    pj["name"] = p.name;
    pj["seconds"] = p.seconds;
    pj["nodes_before"] = p.nodesBefore;
    pj["nodes_after"] = p.nodesAfter;
    pj["counters"] = nlohmann::json::object();
    for (const auto& [k, v] : p.counters) pj["counters"][k] = v;
    pj["declined"] = nlohmann::json::object();
    for (const auto& [k, v] : p.declined) pj["declined"][k] = v;
    pj["notes"] = p.notes;
    pj["layers"] = {{"columns", p.layerColumns}, {"rows", nlohmann::json::array()}};
    for (const auto& [name, values] : p.layers) pj["layers"]["rows"].push_back({{"name", name}, {"values", values}});
    j["passes"].push_back(pj);
  }
  j["measured"] = measuredJson(r.measured);
  const Environment& e = r.environment;
  j["environment"] = {{"effdl_version", e.effdlVersion},
                      {"cpu", e.cpu},
                      {"int8_support", e.int8Support},
                      {"threads", e.threads},
                      {"input_shapes", nlohmann::json::array()}};
  for (const auto& [name, dims] : e.inputShapes) j["environment"]["input_shapes"].push_back({{"name", name}, {"shape", dims}});
  j["quality_metric"] = r.qualityName;
  j["selection"] = r.selection;
  j["variants"] = nlohmann::json::array();
  for (const auto& v : r.variants) {
    nlohmann::json vj;
    vj["name"] = v.name;
    vj["pipeline"] = v.pipeline;
    vj["error"] = v.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.error);
    vj["after"] = v.error.empty() ? summaryJson(v.after) : nlohmann::json(nullptr);
    vj["measured"] = v.error.empty() ? measuredJson(v.measured) : nlohmann::json(nullptr);
    vj["quality"] = v.quality;
    vj["size_frontier"] = v.sizeFrontier;
    vj["latency_frontier"] = v.latencyFrontier;
    vj["selected"] = v.selected;
    j["variants"].push_back(vj);
  }
  j["gates"] = nlohmann::json::array();
  for (const auto& g : r.gates)
    j["gates"].push_back({{"gate", g.gate},
                          {"value", g.value ? nlohmann::json(*g.value) : nlohmann::json(nullptr)},
                          {"failed", g.failed},
                          {"reason", g.reason}});
  os << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace effdl::report
