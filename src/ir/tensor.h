// A tensor's type, dims and bytes. The bytes are a view on shared storage — a string moved out
// of the parsed protobuf, a memory-mapped external-data file, or a buffer a pass produced — so
// copying a Tensor never copies weights.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace effdl {
class MappedFile;
}

namespace effdl::ir {

class Tensor {
 public:
  Tensor() = default;
  // A view on bytes kept alive by `owner`.
  Tensor(DataType dtype, std::vector<int64_t> dims, std::shared_ptr<const void> owner,
         const uint8_t* data, size_t nbytes)
      : dtype_(dtype), dims_(std::move(dims)), owner_(std::move(owner)), data_(data), nbytes_(nbytes) {}

  // A tensor owning a fresh buffer (for passes): copies `bytes`.
  static Tensor fromBytes(DataType dtype, std::vector<int64_t> dims, const void* bytes, size_t nbytes);
  template <typename T>
  static Tensor fromVector(DataType dtype, std::vector<int64_t> dims, const std::vector<T>& v) {
    return fromBytes(dtype, std::move(dims), v.data(), v.size() * sizeof(T));
  }
  // A tensor taking over `v`'s buffer (no copy): passes build large results in a vector.
  template <typename T, typename Alloc>
  static Tensor adopt(DataType dtype, std::vector<int64_t> dims, std::vector<T, Alloc>&& v) {
    auto buf = std::make_shared<std::vector<T, Alloc>>(std::move(v));
    const auto* p = reinterpret_cast<const uint8_t*>(buf->data());
    const size_t n = buf->size() * sizeof(T);
    return Tensor(dtype, std::move(dims), std::shared_ptr<const void>(buf, buf.get()), p, n);
  }
  static Tensor fromStrings(std::vector<int64_t> dims, std::vector<std::string> strings);

  DataType dtype() const { return dtype_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  // Element count; dims were checked at load, so this cannot overflow.
  int64_t numel() const;
  const uint8_t* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  template <typename T>
  std::span<const T> values() const {
    return {reinterpret_cast<const T*>(data_), nbytes_ / sizeof(T)};
  }
  const std::vector<std::string>& strings() const { return strings_; }
  // Same dtype, dims and bytes.
  bool sameContent(const Tensor& o) const;

  // Where the bytes came from, so a save can keep the layout a user chose.
  bool fromExternalData() const { return external_; }
  void setFromExternalData(bool v) { external_ = v; }
  // For bytes that are a view of a mapped file: the file and the offset, so a save can copy them
  // file-to-file in the kernel instead of through memory.
  void setSource(std::shared_ptr<const MappedFile> file, uint64_t offset) {
    sourceFile_ = std::move(file);
    sourceOffset_ = offset;
  }
  const MappedFile* sourceFile() const { return sourceFile_.get(); }
  // For a view of a mapped file: drops the pages of bytes [from, from + n) from the process's
  // memory once a pass is done reading them (MappedFile::dropPages). No-op for other storage.
  void releasePages(size_t from, size_t n) const;
  void releasePages() const { releasePages(0, nbytes_); }
  uint64_t sourceOffset() const { return sourceOffset_; }
  const std::string& docString() const { return docString_; }
  void setDocString(std::string s) { docString_ = std::move(s); }
  // Attribute tensors (Constant's `value`) carry a name of their own.
  const std::string& name() const { return name_; }
  void setName(std::string s) { name_ = std::move(s); }

 private:
  DataType dtype_ = DataType::kUndefined;
  std::vector<int64_t> dims_;
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;
  size_t nbytes_ = 0;
  std::vector<std::string> strings_;
  bool external_ = false;
  std::shared_ptr<const MappedFile> sourceFile_;
  uint64_t sourceOffset_ = 0;
  std::string docString_;
  std::string name_;
};

// ONNX sparse_initializer: values [NNZ] and indices [NNZ] (linear) or [NNZ, rank].
struct SparseTensor {
  std::vector<int64_t> dims;
  Tensor values;
  Tensor indices;
};

}  // namespace effdl::ir
