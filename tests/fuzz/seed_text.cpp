// Writes seeds for the ONNX-text fuzz target: each model named on the command line, loaded and
// printed in ONNX text syntax by effdl's printer, to OUT_DIR/<n>.txt. Models that do not load or
// whose text would be large (> 64 KiB: big initializers printed inline) are skipped.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "ir/onnx_import.h"
#include "ir/printer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR MODEL...\n", argv[0]);
    return 1;
  }
  const std::filesystem::path out(argv[1]);
  int written = 0;
  for (int i = 2; i < argc; ++i) {
    try {
      auto model = effdl::ir::loadModel(argv[i]);
      std::string text = effdl::ir::printModel(*model);
      if (text.size() > (64u << 10)) continue;
      std::ofstream(out / (std::to_string(written++) + ".txt"), std::ios::binary) << text;
    } catch (const effdl::Error&) {
    }
  }
  std::printf("seed_text: %d seeds written to %s\n", written, out.c_str());
  return 0;
}
