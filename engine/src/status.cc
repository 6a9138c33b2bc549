// Status rendering.
//
// Invariants: CodeName returns a static, lowercase, human phrase for every
// Code (the CLI prints it before the message); ToString of an OK status is
// "ok" and never carries a message.
#include "leadlog/status.h"

namespace leadlog {

const char* Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not found";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kIllegalTransition:
      return "illegal transition";
    case Code::kConflict:
      return "conflict";
    case Code::kAlreadyExists:
      return "already exists";
    case Code::kCorruption:
      return "corruption";
    case Code::kIOError:
      return "io error";
    case Code::kBusy:
      return "busy";
    case Code::kNotSupported:
      return "not supported";
    case Code::kReadOnly:
      return "read only";
  }
  // A Code read from somewhere it should not have come from; never crash on it.
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out = CodeName(code_);
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace leadlog
