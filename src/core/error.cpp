// Exit codes of the effdl binary (documented in README.md, "Exit codes").
#include "core/error.h"

namespace effdl {

int exitCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage: return 1;
    case ErrorKind::kInvalidModel: return 2;
    case ErrorKind::kUnsupported: return 3;
    case ErrorKind::kIo: return 4;
    case ErrorKind::kGateFailed: return 5;
    case ErrorKind::kBatchPartial: return 6;
    case ErrorKind::kInternal: return 70;
  }
  return 70;
}

std::string_view kindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage: return "usage";
    case ErrorKind::kInvalidModel: return "invalid_model";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kGateFailed: return "gate_failed";
    case ErrorKind::kBatchPartial: return "batch_partial";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace effdl
