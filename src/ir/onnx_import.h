// ONNX file → ir::Model. Every size, path and nesting level of the untrusted file is checked
// here, before anything is allocated from it; after this, passes may rely on a well-formed graph.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "ir/graph.h"
#include "ir/load_options.h"

namespace onnx {
class ModelProto;
}

namespace effdl::ir {

// Loads, validates, checks (ONNX checker) and shape-infers a model file. External data is
// memory-mapped, confined to the model's folder. Throws effdl::Error naming the file.
std::unique_ptr<Model> loadModel(const std::filesystem::path& path, const LoadOptions& options = {});

// The same from bytes in memory (tests, fuzzing). `baseDir` is where external data would live;
// `displayName` prefixes error messages.
std::unique_ptr<Model> loadModelFromBytes(const void* data, size_t size, const std::filesystem::path& baseDir,
                                          const std::string& displayName, const LoadOptions& options = {});

// Parses ONNX's text syntax (onnx/defs/parser.h) into a model: for tests and debugging.
std::unique_ptr<Model> loadModelFromText(const std::string& text, const LoadOptions& options = {});

// Converts an already validated proto (consumed: tensor bytes are moved out of it).
std::unique_ptr<Model> importProto(onnx::ModelProto&& proto, const std::filesystem::path& baseDir,
                                   const std::string& displayName, const LoadOptions& options);

}  // namespace effdl::ir
