// StringNormalizer (opset 10): removes stopwords from a [C] or [1, C] string tensor, then changes
// case (LOWER/UPPER/NONE). Matching is case-insensitive unless is_case_sensitive = 1. When every
// string is removed the output is one empty string ([1] or [1, 1]), as ONNX's reference does.
// Case mapping is Unicode's simple per-character mapping of glibc's C.UTF-8 locale (towlower_l /
// towupper_l on UTF-8 decoded text; invalid UTF-8 bytes pass through). Only the locales "", C,
// C.UTF-8, en_US and en_US.UTF-8 are accepted (their mappings agree); others are refused when the
// session is built, since e.g. Turkish dotted/dotless i would map differently.
#include <locale.h>
#include <wctype.h>

#include <set>
#include <string>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/shape_util.h"

namespace effdl::runtime {
namespace {

enum class CaseChange { kNone, kLower, kUpper };

// Decodes one UTF-8 code point at s[i] (advancing i); -1 for an invalid byte (i advances by 1).
int32_t decode(const std::string& s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return -1;
  }
  int32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1f) : len == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + static_cast<size_t>(k)]);
    if ((b >> 6) != 2) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  i += static_cast<size_t>(len);
  return cp;
}

void encode(int32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

class CaseMapper {
 public:
  CaseMapper() : loc_(newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr))) {}
  ~CaseMapper() {
    if (loc_) freelocale(loc_);
  }
  CaseMapper(const CaseMapper&) = delete;
  CaseMapper& operator=(const CaseMapper&) = delete;

  std::string map(const std::string& s, CaseChange c) const {
    if (c == CaseChange::kNone) return s;
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
      const size_t start = i;
      const int32_t cp = decode(s, i);
      if (cp < 0) {
        out += s[start];
        continue;
      }
      encode(mapOne(cp, c), out);
    }
    return out;
  }

 private:
  int32_t mapOne(int32_t cp, CaseChange c) const {
    if (!loc_) {  // no C.UTF-8 locale: ASCII only
      if (c == CaseChange::kLower && cp >= 'A' && cp <= 'Z') return cp + 32;
      if (c == CaseChange::kUpper && cp >= 'a' && cp <= 'z') return cp - 32;
      return cp;
    }
    const wint_t w = static_cast<wint_t>(cp);
    return static_cast<int32_t>(c == CaseChange::kLower ? towlower_l(w, loc_) : towupper_l(w, loc_));
  }
  locale_t loc_;
};

class StringNormalizerKernel : public Kernel {
 public:
  explicit StringNormalizerKernel(const KernelBuildContext& ctx) {
    const std::string action = ctx.node.attrString("case_change_action", "NONE");
    if (action == "LOWER") change_ = CaseChange::kLower;
    else if (action == "UPPER") change_ = CaseChange::kUpper;
    else if (action != "NONE") ctx.invalid("case_change_action must be LOWER, UPPER or NONE, not '" + action + "'");
    caseSensitive_ = ctx.node.attrInt("is_case_sensitive", 0) != 0;
    const std::string locale = ctx.node.attrString("locale", "");
    static const std::set<std::string> kLocales = {"", "C", "C.UTF-8", "en_US", "en_US.UTF-8", "en_US.utf8"};
    if (!kLocales.count(locale))
      ctx.unsupported("locale '" + locale + "': effdl's StringNormalizer supports C and en_US case rules only");
    if (const ir::Attribute* a = ctx.node.attr("stopwords"))
      for (const std::string& w : a->strings) stopwords_.insert(key(w));
  }

  void run(KernelIo& io) override {
    const RtTensor& x = shape_detail::requireInput(io, 0);
    if (x.dtype != ir::DataType::kString) throwRunError(io, "input must be a string tensor");
    const bool twoDim = x.rank() == 2;
    if (!(x.rank() == 1 || (twoDim && x.dims[0] == 1)))
      throwRunError(io, "input must be [C] or [1, C], got " + shapeString(x.dims));
    const auto* in = x.as<std::string>();
    std::vector<std::string> kept;
    for (int64_t i = 0, n = x.numel(); i < n; ++i)
      if (stopwords_.empty() || !stopwords_.count(key(in[i]))) kept.push_back(mapper_.map(in[i], change_));
    if (kept.empty()) kept.emplace_back();
    const int64_t c = static_cast<int64_t>(kept.size());
    RtTensor& y = io.allocStringOutput(0, twoDim ? Shape{1, c} : Shape{c});
    auto* out = y.as<std::string>();
    for (size_t i = 0; i < kept.size(); ++i) out[i] = std::move(kept[i]);
  }

 private:
  std::string key(const std::string& s) const { return caseSensitive_ ? s : mapper_.map(s, CaseChange::kLower); }

  CaseChange change_ = CaseChange::kNone;
  bool caseSensitive_ = false;
  std::set<std::string> stopwords_;
  CaseMapper mapper_;
};

}  // namespace

void registerStringKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "StringNormalizer", 10, 1000,
                    [](const KernelBuildContext& c) { return std::make_unique<StringNormalizerKernel>(c); }});
}

}  // namespace effdl::runtime
