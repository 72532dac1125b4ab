// A calibration / evaluation dataset: a folder of samples, read one sample at a time so that a
// dataset of any size costs the memory of one sample.
//
// Accepted layouts. Entries are taken in name order, with digit runs compared as numbers
// (sample_2 before sample_10, test_data_set_9 before test_data_set_10):
//
//   data/                           a folder of samples; each entry is one sample:
//     a.npz                           an .npz whose members are named after the model's inputs
//     b/  input_ids.npy  mask.npy     a folder of .npy files, each named after a model input
//     test_data_set_0/  input_0.pb    an ONNX test-data folder: input_N.pb in order of N, named
//                                     by the protos (output_N.pb, the expected outputs, ignored)
//   Other files (model.onnx, README, labels.txt) and hidden entries (".*") are ignored.
//
//   data/  x.npy  y.npy             a folder that is itself one sample: .npy files, or
//   test_data_set_0/  input_0.pb    input_N.pb files; it must then hold no .npz or subfolder.
//
// A sample folder that holds both .npy and input_N.pb files, or neither, is refused at open().
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/named_tensor.h"

namespace effdl::io {

class DatasetReader {
 public:
  // Lists and classifies the samples (reads no tensor). Throws kIo when `path` cannot be
  // listed, kUsage when it is not a folder or holds no sample, kInvalidModel for a malformed
  // sample folder. `maxBytes` bounds the tensor bytes of each sample.
  static DatasetReader open(const std::filesystem::path& path, uint64_t maxBytes);

  size_t size() const { return samples_.size(); }
  // The sample's file or folder name, for messages and reports.
  const std::string& sampleName(size_t i) const;
  // Reads sample i (i < size()); errors name the file, as the tensor-file readers do.
  std::vector<NamedTensor> sample(size_t i) const;

 private:
  enum class Kind { kNpz, kNpyFolder, kOnnxTestData };
  struct Sample {
    std::string name;
    Kind kind;
    std::vector<std::filesystem::path> files;  // the .npz, the .npy files, or input_N.pb in order
  };
  DatasetReader() = default;

  std::filesystem::path path_;
  uint64_t maxBytes_ = 0;
  std::vector<Sample> samples_;
};

}  // namespace effdl::io
