// Conversion between onnx protos and the IR, in both directions. Only the loader and the saver
// include this (and pay for ONNX's headers).
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "ir/external_data.h"
#include "ir/graph.h"
#include "ir/load_options.h"

namespace onnx {
class ModelProto;
class GraphProto;
class TensorProto;
class TypeProto;
}  // namespace onnx

namespace effdl::ir {

using ExternalViews = std::unordered_map<const onnx::TensorProto*, ExternalDataView>;

// Resolves (and validates) the external data of every initializer in g and its subgraphs.
ExternalViews resolveExternalData(const onnx::GraphProto& g, ExternalDataResolver& resolver,
                                  const std::string& display);

// Converts the proto (consumed). `fileValueInfo`: names that had value_info in the file.
std::unique_ptr<Model> protoToModel(onnx::ModelProto&& proto, const ExternalViews& views,
                                    const std::set<std::string>& fileValueInfo, const std::string& display,
                                    const LoadOptions& options);

// Tensor conversion. From proto: raw_data is moved out (no copy) unless the proto is const.
Tensor tensorFromProto(onnx::TensorProto& t, const ExternalDataView* view);
void tensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto* out);
ValueType typeFromProto(const onnx::TypeProto& t);
void typeToProto(const ValueType& v, onnx::TypeProto* out);

}  // namespace effdl::ir
