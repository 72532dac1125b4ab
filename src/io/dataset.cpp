// Dataset folders (see dataset.h): open() only lists files, sample() reads one sample.
#include "io/dataset.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

#include "core/error.h"
#include "io/byte_limit.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/tensor_file.h"
#include "io/tensor_proto_file.h"

namespace fs = std::filesystem;

namespace effdl::io {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Name order with digit runs compared by value; ties (a01 vs a1) fall back to plain order so
// the order is total and the same on every machine.
bool naturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (isDigit(a[i]) && isDigit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && isDigit(a[ie])) ++ie;
      while (je < b.size() && isDigit(b[je])) ++je;
      std::string_view x = a.substr(i, ie - i), y = b.substr(j, je - j);
      x.remove_prefix(std::min(x.find_first_not_of('0'), x.size()));
      y.remove_prefix(std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;
}

struct Listing {
  std::vector<fs::path> files;    // regular files (or links to them), hidden ones left out
  std::vector<fs::path> folders;  // the same for folders
};

Listing list(const fs::path& folder) {
  Listing out;
  std::error_code ec;
  fs::directory_iterator it(folder, ec);
  if (ec) throwIo(folder.string() + ": cannot list the folder: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename().string().starts_with(".")) continue;
    std::error_code typeEc;
    if (it->is_directory(typeEc)) out.folders.push_back(p);
    else if (it->is_regular_file(typeEc)) out.files.push_back(p);
  }
  if (ec) throwIo(folder.string() + ": cannot list the folder: " + ec.message());
  auto byName = [](const fs::path& x, const fs::path& y) {
    return naturalLess(x.filename().string(), y.filename().string());
  };
  std::sort(out.files.begin(), out.files.end(), byName);
  std::sort(out.folders.begin(), out.folders.end(), byName);
  return out;
}

std::vector<fs::path> withFormat(const std::vector<fs::path>& files, TensorFileFormat f) {
  std::vector<fs::path> out;
  for (const auto& p : files)
    if (tensorFileFormat(p) == f) out.push_back(p);
  return out;
}

}  // namespace

DatasetReader DatasetReader::open(const fs::path& path, uint64_t maxBytes) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) throwIo(path.string() + ": no such dataset folder");
  if (ec) throwIo(path.string() + ": cannot access the dataset folder: " + ec.message());
  if (!fs::is_directory(status))
    throwUsage(path.string() + ": a dataset is a folder of samples (.npz files, folders of .npy files, or "
                               "test_data_set_N folders), not a file");
  DatasetReader r;
  r.path_ = path;
  r.maxBytes_ = maxBytes;

  // A folder's own sample, if it is one: input_N.pb files or .npy files.
  auto asSample = [](const fs::path& folder, const Listing& l) -> std::optional<Sample> {
    auto inputs = listOnnxTestDataFiles(folder, "input");
    auto npys = withFormat(l.files, TensorFileFormat::kNpy);
    if (!inputs.empty() && !npys.empty())
      throwInvalid(folder.string() + ": holds both input_N.pb and .npy files; a sample folder holds one kind");
    const std::string name = folder.filename().empty() ? folder.parent_path().filename().string()
                                                       : folder.filename().string();
    if (!inputs.empty()) return Sample{name, Kind::kOnnxTestData, std::move(inputs)};
    if (!npys.empty()) return Sample{name, Kind::kNpyFolder, std::move(npys)};
    return std::nullopt;
  };

  const Listing top = list(path);
  auto npzs = withFormat(top.files, TensorFileFormat::kNpz);
  if (auto self = asSample(path, top)) {
    if (!npzs.empty() || !top.folders.empty())
      throwInvalid(path.string() + ": mixes loose " +
                   (self->kind == Kind::kNpyFolder ? std::string(".npy") : std::string("input_N.pb")) +
                   " files with sample files or folders; put each sample's files in a folder of its own");
    r.samples_.push_back(std::move(*self));
    return r;
  }
  // Sample entries (.npz files and folders), merged into one name order.
  std::vector<std::pair<fs::path, bool>> entries;  // path, is an .npz file
  for (const auto& f : npzs) entries.emplace_back(f, true);
  for (const auto& d : top.folders) entries.emplace_back(d, false);
  std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) {
    return naturalLess(x.first.filename().string(), y.first.filename().string());
  });
  for (const auto& [entry, isNpz] : entries) {
    if (isNpz) {
      r.samples_.push_back(Sample{entry.filename().string(), Kind::kNpz, {entry}});
      continue;
    }
    auto s = asSample(entry, list(entry));
    if (!s)
      throwInvalid(entry.string() + ": a sample folder must hold .npy files or input_N.pb files, and this one has neither");
    r.samples_.push_back(std::move(*s));
  }
  if (r.samples_.empty())
    throwUsage(path.string() + ": no samples (expected .npz files, folders of .npy files, or test_data_set_N folders)");
  return r;
}

const std::string& DatasetReader::sampleName(size_t i) const {
  if (i >= samples_.size()) throwInternal("dataset sample " + std::to_string(i) + " out of range");
  return samples_[i].name;
}

std::vector<NamedTensor> DatasetReader::sample(size_t i) const {
  if (i >= samples_.size()) throwInternal("dataset sample " + std::to_string(i) + " out of range");
  const Sample& s = samples_[i];
  if (s.kind == Kind::kNpz) return readNpz(s.files[0], maxBytes_);
  std::vector<NamedTensor> out;
  std::set<std::string> names;
  uint64_t used = 0;
  for (const auto& f : s.files) {
    if (s.kind == Kind::kNpyFolder) out.push_back({f.stem().string(), readNpy(f, maxBytes_ - used)});
    else out.push_back(readTensorProto(f, maxBytes_ - used));
    used += materializedBytes(out.back().tensor);
    // Unnamed protos are matched by position; named ones must not collide.
    if (!out.back().name.empty() && !names.insert(out.back().name).second)
      throwInvalid(f.string() + ": a second input named '" + out.back().name + "' in sample " + s.name);
  }
  return out;
}

}  // namespace effdl::io
