// Status and Result: how every leadlog call reports success or failure.
//
// Invariants:
//  - No public call throws. A failed call returns a non-OK Status whose message
//    names what was wrong in words an operator can act on.
//  - A call that fails has changed nothing: not the log, not any view.
//  - Result<T> holds either a value (status().ok()) or a non-OK Status, never both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace leadlog {

class Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound,           // no such campaign, lead, record
    kInvalidArgument,    // bad input from the caller (phone, name, flag value)
    kIllegalTransition,  // the state machine refuses the change
    kConflict,           // e.g. a different outcome for an already finished attempt
    kAlreadyExists,      // campaign name taken
    kCorruption,         // the log or a view does not decode or does not agree
    kIOError,            // the file system or RocksDB failed
    kBusy,               // another process holds the database open for writing
    kNotSupported,       // e.g. written by a newer schema version
    kReadOnly,           // a write on a store opened read-only
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status IllegalTransition(std::string msg) { return {Code::kIllegalTransition, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {Code::kNotSupported, std::move(msg)}; }
  static Status ReadOnly(std::string msg) { return {Code::kReadOnly, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsBusy() const { return code_ == Code::kBusy; }

  // "<code name>: <message>", e.g. "invalid argument: phone '+1555' is not a valid number".
  std::string ToString() const;
  static const char* CodeName(Code code);

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace leadlog
