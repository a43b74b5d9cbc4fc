#include "mqstore/status.h"

namespace mqstore {

Status::Status(Code code, std::string_view message) {
  if (code != Code::kOk) rep_ = std::make_unique<Rep>(Rep{code, std::string(message)});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

const char* StatusCodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kNotFound: return "NotFound";
    case Status::Code::kCorruption: return "Corruption";
    case Status::Code::kIOError: return "IOError";
    case Status::Code::kInvalidArgument: return "InvalidArgument";
    case Status::Code::kNotSupported: return "NotSupported";
    case Status::Code::kOutOfRange: return "OutOfRange";
    case Status::Code::kResourceExhausted: return "ResourceExhausted";
    case Status::Code::kFailedPrecondition: return "FailedPrecondition";
    case Status::Code::kBusy: return "Busy";
    case Status::Code::kTimedOut: return "TimedOut";
    case Status::Code::kAborted: return "Aborted";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = StatusCodeName(rep_->code);
  s += ": ";
  s += rep_->message;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return Status();
  std::string msg(context);
  msg += ": ";
  msg += rep_->message;
  return Status(rep_->code, msg);
}

}  // namespace mqstore
