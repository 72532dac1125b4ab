// Renders the optimize report (table and JSON).
#include "report/optimize_report.h"

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

}  // namespace

void renderOptimizeTable(const OptimizeReport& r, std::ostream& os) {
  os << r.input << " -> " << r.output << "\n";
  os << "pipeline: " << r.pipeline << "\n\n";
  Table t({"", "before", "after", "ratio"}, {false, true, true, true});
  const ModelSummary& b = r.before;
  const ModelSummary& a = r.after;
  auto d = [](auto v) { return static_cast<double>(v); };
  t.addRow({"file size", formatBytes(b.fileBytes), formatBytes(a.fileBytes), formatRatio(d(a.fileBytes), d(b.fileBytes))});
  t.addRow({"parameters", formatCount(d(b.parameters)), formatCount(d(a.parameters)),
            formatRatio(d(a.parameters), d(b.parameters))});
  t.addRow({"nodes", std::to_string(b.nodes), std::to_string(a.nodes), formatRatio(d(a.nodes), d(b.nodes))});
  t.addRow({"MACs", formatCount(d(b.macs)), formatCount(d(a.macs)), formatRatio(d(a.macs), d(b.macs))});
  t.addRow({"FLOPs", formatCount(d(b.flops)), formatCount(d(a.flops)), formatRatio(d(a.flops), d(b.flops))});
  t.addRow({"peak activations", formatBytes(static_cast<uint64_t>(b.peakActivationBytes)),
            formatBytes(static_cast<uint64_t>(a.peakActivationBytes)),
            formatRatio(d(a.peakActivationBytes), d(b.peakActivationBytes))});
  t.print(os);
  if (b.unknownCostNodes > 0 || a.unknownCostNodes > 0)
    os << "(FLOPs/MACs leave out " << b.unknownCostNodes << " -> " << a.unknownCostNodes
       << " nodes with unknown shapes or no cost rule; bind dims with --dim NAME=VALUE)\n";
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
}

void renderOptimizeJson(const OptimizeReport& r, std::ostream& os) {
  nlohmann::json j;
  j["schema_version"] = kReportSchemaVersion;
  j["command"] = "optimize";
  j["ok"] = true;
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
    j["passes"].push_back(pj);
  }
  os << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace effdl::report
