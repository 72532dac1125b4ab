// Renders `effdl inspect` (text and JSON).
#include "report/inspect_report.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "report/table.h"

namespace effdl::report {
namespace {

std::string dimsText(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string typeText(const analysis::TensorSignature& t) {
  if (t.kind != "tensor" && t.kind != "sparse_tensor") return t.kind;
  return std::string(ir::dtypeName(t.dtype)) + t.shapeText();
}

nlohmann::json signatureJson(const analysis::TensorSignature& t) {
  nlohmann::json j{{"name", t.name}, {"kind", t.kind}, {"dtype", std::string(ir::dtypeName(t.dtype))}};
  if (t.rankKnown) {
    nlohmann::json dims = nlohmann::json::array();
    for (const auto& d : t.dims) {
      bool numeric = !d.empty() && std::all_of(d.begin(), d.end(), ::isdigit);
      if (numeric) dims.push_back(std::stoll(d));
      else if (d == "?") dims.push_back(nullptr);
      else dims.push_back(d);
    }
    j["shape"] = dims;
  } else {
    j["shape"] = nullptr;
  }
  return j;
}

// One line of at most 120 characters: a file's metadata may hold anything.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (out.size() >= 120) return out + "...";
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  return out;
}

}  // namespace

void renderInspectText(const InspectReport& r, std::ostream& os) {
  const auto& s = r.stats;
  const auto& p = s.parameters;
  os << r.path << "\n";
  os << "  file            " << formatBytes(r.fileBytes + static_cast<uint64_t>(p.externalBytes));
  if (p.externalBytes > 0) os << " (" << formatBytes(static_cast<uint64_t>(p.externalBytes)) << " in external data)";
  os << "\n  IR version      " << s.irVersion << "\n  opsets          ";
  for (size_t i = 0; i < s.opsets.size(); ++i)
    os << (i ? ", " : "") << (s.opsets[i].domain.empty() ? "ai.onnx" : s.opsets[i].domain) << " " << s.opsets[i].version;
  os << "\n  producer        " << (s.producerName.empty() ? "-" : s.producerName + " " + s.producerVersion) << "\n";
  for (const auto& [key, value] : s.metadata) os << "  metadata        " << printable(key) << ": " << printable(value) << "\n";
  if (!r.boundDims.empty()) {
    os << "  counted with    ";
    for (size_t i = 0; i < r.boundDims.size(); ++i)
      os << (i ? ", " : "") << r.boundDims[i].first << "=" << r.boundDims[i].second;
    os << " (bind others with --dim NAME=VALUE)\n";
  }
  os << "\n";

  Table io({"", "name", "type"});
  for (const auto& t : s.inputs) io.addRow({"input", t.name, typeText(t)});
  for (const auto& t : s.outputs) io.addRow({"output", t.name, typeText(t)});
  io.print(os);
  os << "\n";

  os << "nodes: " << s.nodes;
  if (s.subgraphNodes > 0) os << " (+" << s.subgraphNodes << " in subgraphs)";
  os << "\n";
  Table ops({"op", "count", "MACs", "FLOPs"}, {false, true, true, true});
  for (const auto& oc : s.opCounts) {
    std::string macs = "-", flops = "-";
    for (const auto& c : s.flops.byOpType)
      if (c.opType == oc.opType) {
        macs = c.macs ? formatCount(static_cast<double>(c.macs)) : "0";
        flops = formatCount(static_cast<double>(c.flops));
      }
    ops.addRow({oc.opType, std::to_string(oc.count), macs, flops});
  }
  ops.print(os, "  ");
  if (r.missingKernels.empty()) {
    os << "  runtime: effdl's runtime has a kernel for every op\n";
  } else {
    os << "  runtime: no kernel in effdl's runtime for ";
    for (size_t i = 0; i < r.missingKernels.size(); ++i) {
      const auto& m = r.missingKernels[i];
      os << (i ? ", " : "") << (m.domain.empty() ? "" : m.domain + ".") << m.opType << " (opset " << m.opset << ", "
         << m.nodes << " node" << (m.nodes == 1 ? "" : "s") << ")";
    }
    os << ": `effdl run` and `effdl bench` cannot run this model\n";
  }
  os << "\n";

  os << "parameters: " << formatCount(static_cast<double>(p.totalParams)) << " (" << p.totalParams << ") in "
     << p.tensors << " tensors, " << formatBytes(static_cast<uint64_t>(p.totalBytes));
  if (p.batchNormStatisticsParams > 0)
    os << "; " << (p.totalParams - p.batchNormStatisticsParams) << " without BatchNorm running statistics";
  os << "\n";
  if (p.floatElements > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  sparsity (exact zeros in float weights): %.2f%%\n", 100.0 * p.sparsity());
    os << buf;
  }
  Table dt({"dtype", "params", "bytes"}, {false, true, true});
  for (const auto& d : p.byDtype)
    dt.addRow({std::string(ir::dtypeName(d.dtype)), formatCount(static_cast<double>(d.params)),
               formatBytes(static_cast<uint64_t>(d.bytes))});
  dt.print(os, "  ");
  os << "\n";
  Table bo({"used by", "params", "bytes"}, {false, true, true});
  for (const auto& o : p.byOpType)
    bo.addRow({o.opType, formatCount(static_cast<double>(o.params)), formatBytes(static_cast<uint64_t>(o.bytes))});
  bo.print(os, "  ");
  os << "\n";
  Table big({"largest initializers", "dtype", "shape", "bytes"}, {false, false, false, true});
  for (const auto& w : p.largest)
    big.addRow({w.name, std::string(ir::dtypeName(w.dtype)), dimsText(w.dims), formatBytes(static_cast<uint64_t>(w.bytes))});
  big.print(os, "  ");
  os << "\n";

  const auto& f = s.flops;
  os << "compute: " << formatCount(static_cast<double>(f.totalMacs)) << " MACs, "
     << formatCount(static_cast<double>(f.totalFlops)) << " FLOPs (" << f.totalMacs << " MACs)\n";
  if (f.unknownShapeNodes > 0)
    os << "  " << f.unknownShapeNodes
       << " nodes have unknown shapes and are left out (bind symbolic dims with --dim NAME=VALUE)\n";
  if (f.unmodeledNodes > 0) {
    os << "  " << f.unmodeledNodes << " nodes have no cost rule:";
    for (const auto& [op, n] : f.unmodeledOps) os << " " << op << "×" << n;
    os << "\n";
  }
  std::vector<const analysis::NodeCostEntry*> costly;
  for (const auto& e : f.nodes)
    if (e.cost.status == analysis::CostStatus::kKnown && e.cost.flops > 0) costly.push_back(&e);
  std::stable_sort(costly.begin(), costly.end(),
                   [](const auto* a, const auto* b) { return a->cost.flops > b->cost.flops; });
  if (!costly.empty()) {
    Table nt({"costliest nodes", "op", "MACs", "FLOPs", "share"}, {false, false, true, true, true});
    for (size_t i = 0; i < costly.size() && i < r.perNodeLimit; ++i) {
      const auto* e = costly[i];
      char share[16];
      std::snprintf(share, sizeof share, "%.1f%%",
                    f.totalFlops ? 100.0 * static_cast<double>(e->cost.flops) / static_cast<double>(f.totalFlops) : 0.0);
      nt.addRow({e->name.empty() ? "(unnamed)" : e->name, e->opType, formatCount(static_cast<double>(e->cost.macs)),
                 formatCount(static_cast<double>(e->cost.flops)), share});
    }
    nt.print(os, "  ");
    if (costly.size() > r.perNodeLimit)
      os << "  ... " << costly.size() - r.perNodeLimit << " more (all nodes are in --json)\n";
  }
  os << "\n";
  const auto& m = s.memory;
  os << "peak activation memory (estimate): " << formatBytes(static_cast<uint64_t>(m.peakBytes));
  if (!m.peakNodeName.empty() || !m.peakNodeOp.empty())
    os << " at node '" << m.peakNodeName << "' (" << m.peakNodeOp << ")";
  os << "\n";
  if (m.unknownValues > 0) os << "  " << m.unknownValues << " activations of unknown size are left out\n";
}

void renderInspectJson(const InspectReport& r, std::ostream& os) {
  const auto& s = r.stats;
  const auto& p = s.parameters;
  nlohmann::json j;
  j["schema_version"] = kInspectSchemaVersion;
  j["command"] = "inspect";
  j["ok"] = true;
  j["model"] = {{"path", r.path},
                {"file_bytes", r.fileBytes + static_cast<uint64_t>(p.externalBytes)},
                {"external_data_bytes", p.externalBytes},
                {"ir_version", s.irVersion},
                {"producer_name", s.producerName},
                {"producer_version", s.producerVersion}};
  j["metadata"] = nlohmann::json::object();
  for (const auto& [key, value] : s.metadata) j["metadata"][key] = value;
  j["bound_dims"] = nlohmann::json::object();
  for (const auto& [k, v] : r.boundDims) j["bound_dims"][k] = v;
  j["runtime"] = {{"missing_ops", nlohmann::json::array()}};
  for (const auto& m : r.missingKernels)
    j["runtime"]["missing_ops"].push_back(
        {{"domain", m.domain}, {"op_type", m.opType}, {"opset", m.opset}, {"nodes", m.nodes}, {"first_node", m.firstNode}});
  j["opsets"] = nlohmann::json::array();
  for (const auto& o : s.opsets) j["opsets"].push_back({{"domain", o.domain}, {"version", o.version}});
  j["inputs"] = nlohmann::json::array();
  for (const auto& t : s.inputs) j["inputs"].push_back(signatureJson(t));
  j["outputs"] = nlohmann::json::array();
  for (const auto& t : s.outputs) j["outputs"].push_back(signatureJson(t));
  j["nodes"] = {{"main_graph", s.nodes}, {"subgraphs", s.subgraphNodes}, {"by_op_type", nlohmann::json::array()}};
  for (const auto& oc : s.opCounts) j["nodes"]["by_op_type"].push_back({{"op_type", oc.opType}, {"count", oc.count}});

  nlohmann::json pj;
  pj["tensors"] = p.tensors;
  pj["total"] = p.totalParams;
  pj["bytes"] = p.totalBytes;
  pj["batchnorm_statistics"] = p.batchNormStatisticsParams;
  pj["float_elements"] = p.floatElements;
  pj["float_zeros"] = p.floatZeros;
  pj["sparsity"] = p.sparsity();
  pj["external_bytes"] = p.externalBytes;
  pj["by_dtype"] = nlohmann::json::array();
  for (const auto& d : p.byDtype)
    pj["by_dtype"].push_back({{"dtype", std::string(ir::dtypeName(d.dtype))}, {"params", d.params}, {"bytes", d.bytes},
                              {"tensors", d.tensors}});
  pj["by_op_type"] = nlohmann::json::array();
  for (const auto& o : p.byOpType)
    pj["by_op_type"].push_back({{"op_type", o.opType}, {"params", o.params}, {"bytes", o.bytes}, {"tensors", o.tensors}});
  pj["largest"] = nlohmann::json::array();
  for (const auto& w : p.largest)
    pj["largest"].push_back({{"name", w.name},
                             {"source", analysis::weightSourceName(w.source)},
                             {"dtype", std::string(ir::dtypeName(w.dtype))},
                             {"dims", w.dims},
                             {"params", w.params},
                             {"bytes", w.bytes},
                             {"external", w.external},
                             {"consumer", w.consumer}});
  j["parameters"] = pj;

  const auto& f = s.flops;
  nlohmann::json cj;
  cj["macs"] = f.totalMacs;
  cj["flops"] = f.totalFlops;
  cj["known_nodes"] = f.knownNodes;
  cj["unknown_shape_nodes"] = f.unknownShapeNodes;
  cj["unmodeled_nodes"] = f.unmodeledNodes;
  cj["subgraph_nodes"] = f.subgraphNodes;
  cj["overflow"] = f.overflow;
  cj["by_op_type"] = nlohmann::json::array();
  for (const auto& c : f.byOpType)
    cj["by_op_type"].push_back({{"op_type", c.opType}, {"nodes", c.nodes}, {"macs", c.macs}, {"flops", c.flops},
                                {"unknown_nodes", c.unknownNodes}});
  cj["per_node"] = nlohmann::json::array();
  for (const auto& e : f.nodes)
    cj["per_node"].push_back({{"name", e.name},
                              {"op_type", e.opType},
                              {"subgraph_depth", e.subgraphDepth},
                              {"status", analysis::costStatusName(e.cost.status)},
                              {"macs", e.cost.macs},
                              {"flops", e.cost.flops}});
  j["compute"] = cj;

  const auto& m = s.memory;
  j["memory"] = {{"peak_activation_bytes", m.peakBytes},
                 {"peak_node", m.peakNodeName},
                 {"peak_node_op_type", m.peakNodeOp},
                 {"input_bytes", m.inputBytes},
                 {"output_bytes", m.outputBytes},
                 {"total_activation_bytes", m.totalActivationBytes},
                 {"unknown_values", m.unknownValues}};
  // Names come from the model and need not be UTF-8: invalid bytes become U+FFFD, not a throw.
  os << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace effdl::report
