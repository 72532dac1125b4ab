// Tensor helpers that allocate.
#include "ir/tensor.h"

#include <algorithm>

#include "core/mapped_file.h"

namespace effdl::ir {

Tensor Tensor::fromBytes(DataType dtype, std::vector<int64_t> dims, const void* bytes, size_t nbytes) {
  auto buf = std::make_shared<std::vector<uint8_t>>(nbytes);
  if (nbytes > 0) std::memcpy(buf->data(), bytes, nbytes);
  const uint8_t* p = buf->data();
  return Tensor(dtype, std::move(dims), std::shared_ptr<const void>(buf, buf.get()), p, nbytes);
}

Tensor Tensor::fromStrings(std::vector<int64_t> dims, std::vector<std::string> strings) {
  Tensor t;
  t.dtype_ = DataType::kString;
  t.dims_ = std::move(dims);
  t.strings_ = std::move(strings);
  return t;
}

void Tensor::releasePages(size_t from, size_t n) const {
  if (!sourceFile_ || from >= nbytes_) return;
  sourceFile_->dropPages(data_ + from, std::min(n, nbytes_ - from));
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

bool Tensor::sameContent(const Tensor& o) const {
  if (dtype_ != o.dtype_ || dims_ != o.dims_ || nbytes_ != o.nbytes_) return false;
  if (dtype_ == DataType::kString) return strings_ == o.strings_;
  return nbytes_ == 0 || data_ == o.data_ || std::memcmp(data_, o.data_, nbytes_) == 0;
}

}  // namespace effdl::ir
