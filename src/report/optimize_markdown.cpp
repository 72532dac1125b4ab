// The optimize report as Markdown (CI job summaries, pull-request comments).
#include <ostream>

#include "report/optimize_report.h"
#include "report/table.h"

namespace effdl::report {
namespace {

std::string cell(std::string s) {
  for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
}

void row(std::ostream& os, const std::vector<std::string>& cells) {
  os << "|";
  for (const auto& c : cells) os << " " << cell(c) << " |";
  os << "\n";
}

}  // namespace

void renderOptimizeMarkdown(const OptimizeReport& r, std::ostream& os) {
  bool ok = true;
  for (const auto& g : r.gates) ok = ok && !g.failed;
  os << "## effdl optimize: `" << r.input << "`" << (ok ? "" : " — gates failed") << "\n\n";
  os << "Output `" << r.output << "`, pipeline `" << r.pipeline << "`.\n\n";
  auto d = [](auto v) { return static_cast<double>(v); };
  const ModelSummary &b = r.before, &a = r.after;
  const Measurements& m = r.measured;
  if (!r.hasAfter) {
    os << "Original: " << formatBytes(b.fileBytes) << ", " << formatCount(d(b.parameters)) << " parameters; no model "
       << "written (variants without --select).\n\n";
  } else {
  os << "| | before | after | ratio |\n|---|---:|---:|---:|\n";
  row(os, {"file size", formatBytes(b.fileBytes), formatBytes(a.fileBytes), formatRatio(d(a.fileBytes), d(b.fileBytes))});
  row(os, {"parameters", formatCount(d(b.parameters)), formatCount(d(a.parameters)),
           formatRatio(d(a.parameters), d(b.parameters))});
  row(os, {"MACs", formatCount(d(b.macs)), formatCount(d(a.macs)), formatRatio(d(a.macs), d(b.macs))});
  row(os, {"nodes", std::to_string(b.nodes), std::to_string(a.nodes), formatRatio(d(a.nodes), d(b.nodes))});
  if (m.before && m.after)
    row(os, {"latency p50 (" + std::to_string(m.threads) + " threads)", formatMs(m.before->p50Ms),
             formatMs(m.after->p50Ms), formatRatio(m.after->p50Ms, m.before->p50Ms)});
  if (m.before && m.after)
    row(os, {"measured memory", formatBytes(m.before->activationBytes), formatBytes(m.after->activationBytes),
             formatRatio(d(m.after->activationBytes), d(m.before->activationBytes))});
  if (m.accuracyBefore && m.accuracyAfter) {
    char drop[32];
    std::snprintf(drop, sizeof drop, "%+.2f pt", (*m.accuracyAfter - *m.accuracyBefore) * 100.0);
    row(os, {"accuracy", formatPercent(*m.accuracyBefore), formatPercent(*m.accuracyAfter), drop});
  }
  os << "\n";
  }
  if (m.agreement) {
    os << "Agreement with the original (" << m.fidelityInputs << "): max abs error "
       << formatSci(m.agreement->maxAbsError()) << ", cosine " << formatSci(m.agreement->worstCosine());
    if (auto t = m.agreement->top1Agreement()) os << ", top-1 agreement " << formatPercent(*t);
    os << ".\n\n";
  }
  for (const auto& w : m.notMeasured) os << "- not measured: " << w << "\n";
  if (!r.gates.empty()) {
    os << "\n### Gates\n\n";
    for (const auto& g : r.gates) os << "- " << (g.failed ? "**FAILED**" : "ok") << ": " << g.reason << "\n";
  }
  if (!r.variants.empty()) {
    os << "\n### Variants (quality: " << r.qualityName << ")\n\n";
    os << "| variant | size | latency p50 | " << r.qualityName << " | frontier |\n|---|---:|---:|---:|---|\n";
    for (const auto& v : r.variants) {
      if (!v.error.empty()) {
        row(os, {v.name, "-", "-", "-", "failed: " + v.error});
        continue;
      }
      std::string front = std::string(v.sizeFrontier ? "size" : "") +
                          (v.latencyFrontier ? (v.sizeFrontier ? ", latency" : "latency") : "");
      row(os, {v.name + (v.selected ? " (selected)" : ""), formatBytes(v.after.fileBytes),
               v.measured.after ? formatMs(v.measured.after->p50Ms) : "-", formatSci(v.quality),
               front.empty() ? "-" : front});
    }
    if (!r.selection.empty()) os << "\n" << r.selection << "\n";
  }
  os << "\n### Passes\n\n| pass | nodes | time | changes |\n|---|---:|---:|---|\n";
  for (const auto& p : r.passes) {
    std::string changes;
    for (const auto& [k, v] : p.counters) changes += (changes.empty() ? "" : ", ") + k + " " + std::to_string(v);
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f ms", p.seconds * 1e3);
    row(os, {p.name, std::to_string(p.nodesBefore) + " → " + std::to_string(p.nodesAfter), ms,
             changes.empty() ? "no change" : changes});
  }
  const Environment& e = r.environment;
  os << "\n<sub>effdl " << e.effdlVersion << " · " << e.cpu << " · int8: " << e.int8Support << " · " << e.threads
     << " threads</sub>\n";
}

}  // namespace effdl::report
