// effdl's one error type: a category that maps to a documented exit code, and a message that
// names the file/node/tensor and the problem. The CLI catches it at the top of main.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace effdl {

enum class ErrorKind {
  kUsage,         // bad command line or option values
  kInvalidModel,  // the model (or a data file) is malformed or hostile
  kUnsupported,   // valid input that effdl does not handle (newer IR/opset, an op without kernel)
  kIo,            // file system: missing, unreadable, cannot write
  kGateFailed,    // a --fail-if gate failed
  kBatchPartial,  // a batch in which some models failed
  kInternal,      // a bug in effdl
};

// The exit code table lives here and only here; README's table is generated from the same values.
int exitCode(ErrorKind kind);
std::string_view kindName(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void throwUsage(const std::string& m) { throw Error(ErrorKind::kUsage, m); }
[[noreturn]] inline void throwInvalid(const std::string& m) { throw Error(ErrorKind::kInvalidModel, m); }
[[noreturn]] inline void throwUnsupported(const std::string& m) { throw Error(ErrorKind::kUnsupported, m); }
[[noreturn]] inline void throwIo(const std::string& m) { throw Error(ErrorKind::kIo, m); }
[[noreturn]] inline void throwInternal(const std::string& m) { throw Error(ErrorKind::kInternal, m); }

}  // namespace effdl
