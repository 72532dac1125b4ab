// External data: path containment, link checks and byte ranges (see external_data.h).
#include "ir/external_data.h"

#include <charconv>

#include "core/checked_math.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace effdl::ir {
namespace {

std::optional<uint64_t> parseDecimal(const std::string& s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool pathInside(const fs::path& p, const fs::path& root) {
  auto pi = p.begin();
  for (auto ri = root.begin(); ri != root.end(); ++ri, ++pi) {
    if (ri->empty()) continue;  // trailing separator
    if (pi == p.end() || *pi != *ri) return false;
  }
  return true;
}

ExternalDataResolver::ExternalDataResolver(fs::path modelDir, std::optional<fs::path> allowRoot,
                                           std::string displayName)
    : modelDir_(std::move(modelDir)), allowRoot_(std::move(allowRoot)), display_(std::move(displayName)) {}

ExternalDataView ExternalDataResolver::resolve(const std::string& tensorName, const ExternalDataRef& ref,
                                               uint64_t expectedBytes) {
  const std::string tensorWhat = display_ + ": tensor '" + tensorName + "'";
  if (ref.location.empty()) throwInvalid(tensorWhat + ": external data without a location");
  // Checked before the location is quoted in any message, so no message carries the NUL.
  if (ref.location.find('\0') != std::string::npos)
    throwInvalid(tensorWhat + ": external data location contains a NUL byte");
  const std::string what = tensorWhat + ": external data '" + ref.location + "'";
  fs::path loc(ref.location);
  if (loc.is_absolute() || loc.has_root_name() || loc.has_root_directory())
    throwInvalid(what + " is an absolute path; external data must be inside the model's folder");
  for (const auto& part : loc)
    if (part == "..")
      throwInvalid(what + " contains '..'; external data must be inside the model's folder");

  std::error_code ec;
  fs::path dir = modelDir_.empty() ? fs::path(".") : modelDir_;
  fs::path root = fs::canonical(dir, ec);
  if (ec) throwIo(display_ + ": cannot resolve the model's folder '" + dir.string() + "': " + ec.message());
  fs::path joined = dir / loc;
  if (!fs::exists(fs::symlink_status(joined, ec)))
    throwIo(what + ": file not found (looked for '" + joined.string() + "')");
  fs::path resolved = fs::weakly_canonical(joined, ec);
  if (ec) throwIo(what + ": cannot resolve: " + ec.message());

  bool inModelDir = pathInside(resolved, root);
  bool inAllowedRoot = false;
  if (allowRoot_) {
    fs::path ar = fs::canonical(*allowRoot_, ec);
    if (!ec) inAllowedRoot = pathInside(resolved, ar);
  }
  if (!inModelDir && !inAllowedRoot) {
    throwInvalid(what + " resolves to '" + resolved.string() +
                 "', outside the model's folder (through a symlink); pass --allow-data-root DIR to allow "
                 "symlinks that resolve inside DIR");
  }

  std::shared_ptr<MappedFile> file;
  auto it = files_.find(resolved);
  if (it != files_.end()) {
    file = it->second;
  } else {
    // Open the resolved path itself with O_NOFOLLOW: a symlink swapped in after the check is refused.
    try {
      file = MappedFile::open(resolved, /*noFollow=*/true);
    } catch (const Error& e) {
      // MappedFile names only the path; the message must also name the model and the tensor.
      throw Error(e.kind(), what + ": " + e.what());
    }
    if (file->linkCount() > 1)
      throwInvalid(what + " has " + std::to_string(file->linkCount()) +
                   " hard links; a hard-linked data file may live outside the model's folder");
    files_[resolved] = file;
  }

  uint64_t offset = 0;
  if (ref.offset) {
    auto v = parseDecimal(*ref.offset);
    if (!v) throwInvalid(what + ": offset '" + *ref.offset + "' is not a non-negative integer");
    offset = *v;
  }
  uint64_t length = 0;
  if (ref.length) {
    auto v = parseDecimal(*ref.length);
    if (!v) throwInvalid(what + ": length '" + *ref.length + "' is not a non-negative integer");
    length = *v;
  } else {
    if (offset > file->size())
      throwInvalid(what + ": offset " + std::to_string(offset) + " is past the end of the file (" +
                   std::to_string(file->size()) + " bytes)");
    length = expectedBytes;
  }
  auto end = checkedAdd(static_cast<int64_t>(offset & 0x7fffffffffffffffull), static_cast<int64_t>(length & 0x7fffffffffffffffull));
  if (offset > (1ull << 62) || length > (1ull << 62) || !end || static_cast<uint64_t>(*end) > file->size())
    throwInvalid(what + ": bytes [" + std::to_string(offset) + ", +" + std::to_string(length) +
                 ") lie outside the file (" + std::to_string(file->size()) + " bytes)");
  if (length != expectedBytes)
    throwInvalid(what + ": holds " + std::to_string(length) + " bytes but the tensor's dims and type need " +
                 std::to_string(expectedBytes));
  return ExternalDataView{file, offset, length, resolved};
}

}  // namespace effdl::ir
