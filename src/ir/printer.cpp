// ONNX text syntax writer (see printer.h).
#include "ir/printer.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace effdl::ir {
namespace {

std::string quote(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    r += c;
  }
  return r + "\"";
}

std::string formatFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// ONNX text syntax: "float" is a scalar, "float[]" a tensor of unknown rank.
std::string typeString(const ValueType& t) {
  if (t.kind != ValueType::Kind::kTensor) return "tensor";
  std::string s(dtypeName(t.elemType));
  if (!t.shape) return s + "[]";
  if (t.shape->empty()) return s;
  s += "[";
  for (size_t i = 0; i < t.shape->size(); ++i) {
    if (i) s += ",";
    const Dim& d = (*t.shape)[i];
    if (d.value) s += std::to_string(*d.value);
    else if (!d.param.empty()) s += d.param;
    else s += "?";
  }
  return s + "]";
}

template <typename T>
void printValues(std::ostream& os, const Tensor& t) {
  auto v = t.values<T>();
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) os << ", ";
    if constexpr (std::is_floating_point_v<T>) os << formatFloat(v[i]);
    else os << static_cast<int64_t>(v[i]);
  }
}

void printTensorLiteral(std::ostream& os, const Tensor& t, const PrintOptions& o) {
  if (static_cast<size_t>(t.numel()) > o.maxInlineElements) {
    os << "{...}";
    return;
  }
  os << "{";
  switch (t.dtype()) {
    case DataType::kFloat: printValues<float>(os, t); break;
    case DataType::kDouble: printValues<double>(os, t); break;
    case DataType::kInt8: printValues<int8_t>(os, t); break;
    case DataType::kUint8:
    case DataType::kBool: printValues<uint8_t>(os, t); break;
    case DataType::kInt16: printValues<int16_t>(os, t); break;
    case DataType::kUint16: printValues<uint16_t>(os, t); break;
    case DataType::kInt32: printValues<int32_t>(os, t); break;
    case DataType::kUint32: printValues<uint32_t>(os, t); break;
    case DataType::kInt64: printValues<int64_t>(os, t); break;
    case DataType::kUint64: printValues<uint64_t>(os, t); break;
    case DataType::kString:
      for (size_t i = 0; i < t.strings().size(); ++i) os << (i ? ", " : "") << quote(t.strings()[i]);
      break;
    default: os << "..."; break;
  }
  os << "}";
}

std::string tensorTypeString(const Tensor& t) {
  std::string s(dtypeName(t.dtype()));
  if (t.dims().empty()) return s;  // a scalar
  s += "[";
  for (size_t i = 0; i < t.dims().size(); ++i) {
    if (i) s += ",";
    s += std::to_string(t.dims()[i]);
  }
  return s + "]";
}

std::string exportName(const Value* v) {
  if (!v) return "";
  while (v->outer()) v = v->outer();
  return v->name();
}

void printAttribute(std::ostream& os, const Attribute& a, const PrintOptions& o, int indent) {
  os << a.name;
  if (!a.refAttrName.empty()) {
    os << ": " << (a.type == AttrType::kFloat ? "float" : a.type == AttrType::kInt ? "int" : "string") << " = @"
       << a.refAttrName;
    return;
  }
  os << " = ";
  auto list = [&](auto& xs, auto fmt) {
    os << "[";
    for (size_t i = 0; i < xs.size(); ++i) os << (i ? ", " : "") << fmt(xs[i]);
    os << "]";
  };
  switch (a.type) {
    case AttrType::kFloat: os << formatFloat(a.f); break;
    case AttrType::kInt: os << a.i; break;
    case AttrType::kString: os << quote(a.s); break;
    case AttrType::kFloats: list(a.floats, [](float f) { return formatFloat(f); }); break;
    case AttrType::kInts: list(a.ints, [](int64_t i) { return std::to_string(i); }); break;
    case AttrType::kStrings: list(a.strings, quote); break;
    case AttrType::kTensor:
      os << tensorTypeString(a.t) << " ";
      printTensorLiteral(os, a.t, o);
      break;
    case AttrType::kGraph: printGraph(*a.g, os, o, indent + 2); break;
    default: os << "<unprintable>"; break;
  }
}

void pad(std::ostream& os, int n) {
  for (int i = 0; i < n; ++i) os << ' ';
}

}  // namespace

void printGraph(const Graph& g, std::ostream& os, const PrintOptions& o, int indent) {
  os << (g.name().empty() ? "graph" : g.name()) << " (";
  bool first = true;
  for (const Value* v : g.inputs()) {
    os << (first ? "" : ", ") << typeString(v->type()) << " " << v->name();
    if (v->isInitializer()) {
      os << " = ";
      printTensorLiteral(os, v->initializer(), o);
    }
    first = false;
  }
  os << ") => (";
  first = true;
  for (const Value* v : g.outputs()) {
    os << (first ? "" : ", ") << typeString(v->type()) << " " << exportName(v);
    first = false;
  }
  os << ")";
  std::vector<const Value*> inits;
  for (const Value* v : g.initializers())
    if (!v->isGraphInput()) inits.push_back(v);
  if (!inits.empty()) {
    os << "\n";
    pad(os, indent);
    os << "   <";
    for (size_t i = 0; i < inits.size(); ++i) {
      const Tensor& t = inits[i]->initializer();
      os << (i ? ", " : "") << tensorTypeString(t) << " " << inits[i]->name() << " = ";
      printTensorLiteral(os, t, o);
    }
    os << ">";
  }
  os << "\n";
  pad(os, indent);
  os << "{\n";
  for (const Node* n : g.nodes()) {
    pad(os, indent + 2);
    for (size_t i = 0; i < n->outputs().size(); ++i) os << (i ? ", " : "") << exportName(n->output(i));
    os << " = ";
    if (!n->domain().empty()) os << n->domain() << ".";
    os << n->opType();
    if (!n->attributes().empty()) {
      os << " <";
      for (size_t i = 0; i < n->attributes().size(); ++i) {
        if (i) os << ", ";
        printAttribute(os, n->attributes()[i], o, indent + 2);
      }
      os << ">";
    }
    os << (n->attributes().empty() ? "(" : " (");
    for (size_t i = 0; i < n->inputs().size(); ++i) os << (i ? ", " : "") << exportName(n->input(i));
    os << ")\n";
  }
  pad(os, indent);
  os << "}";
  if (indent == 0) os << "\n";
}

void printModel(const Model& m, std::ostream& os, const PrintOptions& o) {
  if (o.header) {
    os << "<\n  ir_version: " << m.irVersion << ",\n  opset_import: [";
    for (size_t i = 0; i < m.opsets.size(); ++i)
      os << (i ? ", " : "") << quote(m.opsets[i].domain) << " : " << m.opsets[i].version;
    os << "]";
    if (!m.producerName.empty()) os << ",\n  producer_name: " << quote(m.producerName);
    os << "\n>\n";
  }
  printGraph(*m.graph, os, o, 0);
}

std::string printModel(const Model& m, const PrintOptions& o) {
  std::ostringstream ss;
  printModel(m, ss, o);
  return ss.str();
}

}  // namespace effdl::ir
