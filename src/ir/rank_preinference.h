// Ranks of every value as libonnx would infer them, found without running the inference
// functions that crash on a wrong rank. libonnx 1.12's Gemm (old versions) and Conv-family
// inference index dims without checking ranks; a rank that arrives through other nodes (a
// Constant, an Identity, a Reshape) cannot be checked from declarations alone (found by
// fuzz_model). So inference first runs on a skeleton of the model — large weights without their
// bytes, declared output shapes and value_info left out, and each of those ops replaced by an
// Identity of its first input, which has the rank their output has in any valid model — and the
// loader checks the ranks it finds before the real inference runs.
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <string>

namespace effdl::ir {

// Per graph (the model's graph and every subgraph, keyed by the original proto's address):
// value name → rank. Empty when the skeleton's inference itself fails (the real one reports it).
using RankTable = std::map<const onnx::GraphProto*, std::map<std::string, int>>;
RankTable preinferRanks(const onnx::ModelProto& proto, bool dataPropagation);

// The ops whose libonnx inference trusts their input ranks.
bool inferenceTrustsRanks(const onnx::NodeProto& n);

}  // namespace effdl::ir
