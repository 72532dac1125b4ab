// Ranks of every value as libonnx would infer them, found without running the inference
// functions that crash on a wrong rank. libonnx 1.12's Gemm (old versions) and Conv-family
// inference index dims without checking ranks; a rank that arrives through other nodes (a
// Constant, an Identity, a Reshape) cannot be checked from declarations alone (found by
// fuzz_model). So inference first runs on a skeleton of the model — large weights without their
// bytes, declared output shapes and value_info left out, and each of those ops replaced by an
// Identity of its first input, which has the rank their output has in any valid model — and the
// loader checks the ranks it finds before the real inference runs.
// Pooling and convolution with auto_pad SAME_* are stood in for too: libonnx 1.12 computes their
// padding with a loop that subtracts the stride from the input size (a dim of 5.6e10 hung it;
// found by fuzz_text), so the loader bounds those dims first.
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <vector>

namespace effdl::ir {

// Per graph (the model's graph and every subgraph, keyed by the original proto's address):
// value name → dims (-1 where unknown; the rank is their count). Empty when the skeleton's
// inference itself fails (the real one reports it).
using ShapeTable = std::map<const onnx::GraphProto*, std::map<std::string, std::vector<int64_t>>>;
ShapeTable preinferShapes(const onnx::ModelProto& proto, bool dataPropagation);

// The ops whose libonnx inference trusts their input ranks (Gemm, the Conv family) or an axis
// against them (LayerNormalization).
bool inferenceTrustsRanks(const onnx::NodeProto& n);
// Conv/pool ops with auto_pad SAME_UPPER or SAME_LOWER (inference loops over the input size).
bool inferenceLoopsOverDims(const onnx::NodeProto& n);
// libonnx 1.12's data propagation evaluates Slice on shape values itself and crashes on extreme
// steps, and takes an empty constant integer vector for a scalar: true when every Slice's steps
// are absent or small constants and no such vector is constant.
bool dataPropagationSafe(const onnx::GraphProto& g);

}  // namespace effdl::ir
