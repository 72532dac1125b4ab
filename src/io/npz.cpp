// .npz reader and writer (see npz.h): the zip container is zip_archive's job, each member's
// content is npy's.
#include "io/npz.h"

#include <set>

#include "core/error.h"
#include "io/npy.h"
#include "io/zip_archive.h"

namespace effdl::io {
namespace {

constexpr std::string_view kNpySuffix = ".npy";

std::vector<NamedTensor> readMembers(const ZipReader& zip, uint64_t maxBytes) {
  std::vector<NamedTensor> out;
  uint64_t used = 0;
  for (const ZipEntry& e : zip.entries()) {
    const std::string what = zip.display() + ": member '" + e.name + "'";
    if (e.name.size() <= kNpySuffix.size() || !e.name.ends_with(kNpySuffix))
      throwInvalid(what + " is not a .npy array (an .npz holds only <name>.npy members)");
    ZipReader::Data data = zip.read(e, maxBytes - used);
    ir::Tensor t = readNpyBytes(data.bytes, what, maxBytes - used, data.owner);
    used += e.uncompressedSize;  // <= the limit: read() checked it
    out.push_back({e.name.substr(0, e.name.size() - kNpySuffix.size()), std::move(t)});
  }
  return out;
}

}  // namespace

std::vector<NamedTensor> readNpz(const std::filesystem::path& path, uint64_t maxBytes) {
  return readMembers(ZipReader::open(path), maxBytes);
}

std::vector<NamedTensor> readNpzBytes(std::span<const uint8_t> bytes, const std::string& display, uint64_t maxBytes) {
  return readMembers(ZipReader(bytes, nullptr, display), maxBytes);
}

void writeNpz(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors) {
  std::set<std::string> names;
  for (const auto& t : tensors) {
    if (t.name.empty()) throwUsage(path.string() + ": a tensor without a name cannot be stored in .npz");
    if (!names.insert(t.name).second) throwUsage(path.string() + ": two tensors are named '" + t.name + "'");
  }
  // Headers first, so an unstorable dtype fails before the file is created.
  std::vector<std::string> headers;
  for (const auto& t : tensors) headers.push_back(npyHeader(t.tensor, path.string() + ": tensor '" + t.name + "'"));
  ZipWriter zip(path);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const ir::Tensor& t = tensors[i].tensor;
    const std::span<const uint8_t> parts[] = {
        {reinterpret_cast<const uint8_t*>(headers[i].data()), headers[i].size()}, {t.data(), t.nbytes()}};
    zip.addStored(tensors[i].name + std::string(kNpySuffix), parts);
  }
  zip.commit();
}

}  // namespace effdl::io
