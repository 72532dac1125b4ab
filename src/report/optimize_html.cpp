// The optimize report as one self-contained HTML page: summary table, before/after bars, per-layer
// bars of each pass, and the footprint–quality scatter with the Pareto frontier for variants.
#include <cmath>
#include <ostream>

#include "report/optimize_report.h"
#include "report/svg_chart.h"
#include "report/table.h"

namespace effdl::report {
namespace {

constexpr const char* kStyle = R"(body{font-family:system-ui,sans-serif;margin:24px;color:#111;max-width:980px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 10px}
td.n,th.n{text-align:right}h1{font-size:20px}h2{font-size:17px;margin-top:28px}
svg{display:block;margin:8px 0 16px;font-size:12px}svg .title{font-weight:600;font-size:13px}
svg .value,svg .tick{fill:#444}.failed{color:#b00020;font-weight:600}.ok{color:#1b7f3b}
.meta{color:#555;font-size:13px})";

void tr(std::ostream& os, const std::vector<std::string>& cells, bool header = false) {
  os << "<tr>";
  for (size_t i = 0; i < cells.size(); ++i) {
    const char* tag = header ? "th" : "td";
    os << "<" << tag << (i > 0 ? " class=\"n\"" : "") << ">" << escapeXml(cells[i]) << "</" << tag << ">";
  }
  os << "</tr>\n";
}

}  // namespace

void renderOptimizeHtml(const OptimizeReport& r, std::ostream& os) {
  auto d = [](auto v) { return static_cast<double>(v); };
  const ModelSummary &b = r.before, &a = r.after;
  const Measurements& m = r.measured;
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>effdl report: "
     << escapeXml(r.input) << "</title>\n<style>" << kStyle << "</style></head><body>\n";
  os << "<h1>effdl optimize: " << escapeXml(r.input) << "</h1>\n";
  os << "<p class=\"meta\">output " << escapeXml(r.output) << " · pipeline <code>" << escapeXml(r.pipeline)
     << "</code><br>effdl " << escapeXml(r.environment.effdlVersion) << " · " << escapeXml(r.environment.cpu)
     << " · int8: " << escapeXml(r.environment.int8Support) << " · " << r.environment.threads << " threads</p>\n";

  if (r.hasAfter) {
  os << "<table>\n";
  tr(os, {"", "before", "after", "ratio"}, true);
  tr(os, {"file size", formatBytes(b.fileBytes), formatBytes(a.fileBytes), formatRatio(d(a.fileBytes), d(b.fileBytes))});
  tr(os, {"parameters", formatCount(d(b.parameters)), formatCount(d(a.parameters)),
          formatRatio(d(a.parameters), d(b.parameters))});
  tr(os, {"MACs", formatCount(d(b.macs)), formatCount(d(a.macs)), formatRatio(d(a.macs), d(b.macs))});
  tr(os, {"nodes", std::to_string(b.nodes), std::to_string(a.nodes), formatRatio(d(a.nodes), d(b.nodes))});
  if (m.before && m.after)
    tr(os, {"latency p50", formatMs(m.before->p50Ms), formatMs(m.after->p50Ms), formatRatio(m.after->p50Ms, m.before->p50Ms)});
  if (m.before && m.after)
    tr(os, {"measured memory", formatBytes(m.before->activationBytes), formatBytes(m.after->activationBytes),
            formatRatio(d(m.after->activationBytes), d(m.before->activationBytes))});
  if (m.accuracyBefore && m.accuracyAfter)
    tr(os, {"accuracy", formatPercent(*m.accuracyBefore), formatPercent(*m.accuracyAfter), ""});
  os << "</table>\n";
  if (m.agreement) {
    os << "<p>Agreement with the original (" << escapeXml(m.fidelityInputs) << "): max abs error "
       << formatSci(m.agreement->maxAbsError()) << ", cosine " << formatSci(m.agreement->worstCosine());
    if (auto t = m.agreement->top1Agreement()) os << ", top-1 agreement " << formatPercent(*t);
    os << ".</p>\n";
  }
  for (const auto& w : m.notMeasured) os << "<p class=\"meta\">not measured: " << escapeXml(w) << "</p>\n";
  for (const auto& g : r.gates)
    os << "<p class=\"" << (g.failed ? "failed" : "ok") << "\">gate " << (g.failed ? "FAILED" : "ok") << ": "
       << escapeXml(g.reason) << "</p>\n";

  std::vector<BarPair> size{{"file size", d(b.fileBytes), d(a.fileBytes), formatBytes(b.fileBytes), formatBytes(a.fileBytes)},
                            {"weights", d(b.weightBytes), d(a.weightBytes), formatBytes(static_cast<uint64_t>(b.weightBytes)),
                             formatBytes(static_cast<uint64_t>(a.weightBytes))}};
  os << "<h2>Footprint</h2>\n" << svgBarPairs("Size before and after", size);
  if (m.before && m.after)
    os << svgBarPairs("Latency p50 (" + std::to_string(m.threads) + " threads)",
                      {{"p50", m.before->p50Ms, m.after->p50Ms, formatMs(m.before->p50Ms), formatMs(m.after->p50Ms)},
                       {"p90", m.before->p90Ms, m.after->p90Ms, formatMs(m.before->p90Ms), formatMs(m.after->p90Ms)}});
  } else {
    os << "<p>Original: " << formatBytes(b.fileBytes) << ", " << formatCount(d(b.parameters))
       << " parameters. No model written (variants without --select).</p>\n";
  }

  for (const auto& p : r.passes) {
    if (p.layers.empty() || p.layerColumns.empty()) continue;
    os << "<h2>" << escapeXml(p.name) << ": per layer</h2>\n";
    for (size_t c = 0; c < p.layerColumns.size(); ++c) {
      std::vector<BarItem> items;
      for (const auto& [name, values] : p.layers)
        if (c < values.size() && !std::isnan(values[c]))  // NaN: not measured for this row
          items.push_back({name, values[c], formatSci(values[c])});
      os << svgHorizontalBars(p.layerColumns[c], items);
    }
  }

  if (!r.variants.empty()) {
    os << "<h2>Variants</h2>\n<table>\n";
    tr(os, {"variant", "size", "latency p50", r.qualityName, "Pareto-optimal"}, true);
    std::vector<ScatterPoint> bySize, byLatency;
    for (const auto& v : r.variants) {
      if (!v.error.empty()) {
        tr(os, {v.name, "-", "-", "-", "failed: " + v.error});
        continue;
      }
      std::string front = std::string(v.sizeFrontier ? "size" : "") +
                          (v.latencyFrontier ? (v.sizeFrontier ? ", latency" : "latency") : "");
      tr(os, {v.name + (v.selected ? " (selected)" : ""), formatBytes(v.after.fileBytes),
              v.measured.after ? formatMs(v.measured.after->p50Ms) : "-", formatSci(v.quality), front.empty() ? "-" : front});
      bySize.push_back({v.name, d(v.after.fileBytes) / 1024.0, v.quality, v.sizeFrontier, v.selected});
      if (v.measured.after) byLatency.push_back({v.name, v.measured.after->p50Ms, v.quality, v.latencyFrontier, v.selected});
    }
    os << "</table>\n";
    if (!r.selection.empty()) os << "<p>" << escapeXml(r.selection) << "</p>\n";
    os << svgScatter("Size vs " + r.qualityName, "file size (KiB)", r.qualityName, bySize);
    if (!byLatency.empty()) os << svgScatter("Latency vs " + r.qualityName, "latency p50 (ms)", r.qualityName, byLatency);
  }

  os << "<h2>Passes</h2>\n<table>\n";
  tr(os, {"pass", "nodes", "time", "changes"}, true);
  for (const auto& p : r.passes) {
    std::string changes;
    for (const auto& [k, v] : p.counters) changes += (changes.empty() ? "" : ", ") + k + " " + std::to_string(v);
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f ms", p.seconds * 1e3);
    tr(os, {p.name, std::to_string(p.nodesBefore) + " → " + std::to_string(p.nodesAfter), ms,
            changes.empty() ? "no change" : changes});
  }
  os << "</table>\n</body></html>\n";
}

}  // namespace effdl::report
