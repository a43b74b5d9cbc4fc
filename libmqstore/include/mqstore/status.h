// Status and Result<T>: how every libmqstore call reports failure.
//
// The library never throws across its boundary. A call returns a Status (or a Result<T>
// carrying either a value or a non-OK Status). An OK Status costs one pointer-sized
// compare; error details live on the heap only when there is an error.
//
// Codes and when they are used:
//   kNotFound           the thing asked for does not exist (a file, a record at an offset).
//   kCorruption         bytes on disk fail a checksum or a structural check.
//   kIOError            the operating system failed a call (errno is in the message).
//   kInvalidArgument    the caller passed something malformed (bad topic, oversize body).
//   kNotSupported       a valid request this build or format version cannot serve.
//   kOutOfRange         an offset outside what exists (see also ReadStatus in store.h).
//   kResourceExhausted  out of disk (ENOSPC) or a configured limit was hit.
//   kFailedPrecondition the object is in the wrong state (store closed, lock held).
//   kBusy               the store cannot take the request now; retrying later may work.
//   kTimedOut           a wait ended before its condition held (e.g. a durability wait).
//   kAborted            an operation was stopped because the store is shutting down.
#ifndef MQSTORE_STATUS_H_
#define MQSTORE_STATUS_H_

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mqstore {

class [[nodiscard]] Status {
 public:
  enum class Code : int {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kIOError = 3,
    kInvalidArgument = 4,
    kNotSupported = 5,
    kOutOfRange = 6,
    kResourceExhausted = 7,
    kFailedPrecondition = 8,
    kBusy = 9,
    kTimedOut = 10,
    kAborted = 11,
  };

  Status() noexcept = default;
  Status(Code code, std::string_view message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&& other) noexcept = default;
  Status& operator=(Status&& other) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status OutOfRange(std::string_view msg) { return Status(Code::kOutOfRange, msg); }
  static Status ResourceExhausted(std::string_view msg) {
    return Status(Code::kResourceExhausted, msg);
  }
  static Status FailedPrecondition(std::string_view msg) {
    return Status(Code::kFailedPrecondition, msg);
  }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status TimedOut(std::string_view msg) { return Status(Code::kTimedOut, msg); }
  static Status Aborted(std::string_view msg) { return Status(Code::kAborted, msg); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsOutOfRange() const { return code() == Code::kOutOfRange; }
  bool IsResourceExhausted() const { return code() == Code::kResourceExhausted; }
  bool IsFailedPrecondition() const { return code() == Code::kFailedPrecondition; }
  bool IsBusy() const { return code() == Code::kBusy; }
  bool IsTimedOut() const { return code() == Code::kTimedOut; }

  // The message without the code name; empty for OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  // Marks a deliberately ignored status so that it can be found with grep.
  void IgnoreError() const {}

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

const char* StatusCodeName(Status::Code code);

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace mqstore

#define MQ_STATUS_CONCAT_INNER_(a, b) a##b
#define MQ_STATUS_CONCAT_(a, b) MQ_STATUS_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define MQ_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    ::mqstore::Status mq_status_ = (expr);          \
    if (!mq_status_.ok()) return mq_status_;        \
  } while (0)

// `lhs` = the value of the Result `rexpr`, or returns its Status from the enclosing function.
#define MQ_ASSIGN_OR_RETURN(lhs, rexpr) \
  MQ_ASSIGN_OR_RETURN_IMPL_(MQ_STATUS_CONCAT_(mq_result_, __LINE__), lhs, rexpr)
#define MQ_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                              \
  if (!result.ok()) return result.status();           \
  lhs = std::move(result).value()

#endif  // MQSTORE_STATUS_H_
