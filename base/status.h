// Status and Result<T>: the error currency of every phrfs layer.
// Codes describe filesystem outcomes, not transports; each layer converts at its bottom edge
// (errno -> Status in remote/, Status -> errno once, in fs/to_errno). Thread-safe: plain values.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace phrfs {

enum class Code {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kNotEmpty,
  kNotADirectory,
  kIsADirectory,
  kNameTooLong,
  kPermissionDenied,  // EACCES: the caller may not do this
  kNotPermitted,      // EPERM: the operation is refused (e.g. hard links across kinds)
  kInvalidArgument,
  kNoSpace,
  kReadOnly,
  kBusy,
  kCrossDevice,
  kNotSupported,
  kTooManyLinks,
  kPreconditionFailed,  // the object changed under us (ETag / must-not-exist)
  kUnavailable,         // transient: try again later
  kCorrupt,             // authentication or format check failed; never retried
  kWrongKey,            // unlock failed: wrong passphrase or recovery key
  kIoError,             // anything else from below
  kNoResources,         // ENFILE/EMFILE: out of descriptors (or another countable resource)
  kOutOfMemory,         // ENOMEM
  kFileTooBig,          // EFBIG: beyond the largest file the format can hold
};

// Short stable name of a code, for messages and tests ("NotFound", "Corrupt", ...).
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(Code code, std::string message) { return Status(code, std::move(message)); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status Corrupt(std::string m) { return Status(Code::kCorrupt, std::move(m)); }
  static Status WrongKey(std::string m) { return Status(Code::kWrongKey, std::move(m)); }
  static Status NotSupported(std::string m) { return Status(Code::kNotSupported, std::move(m)); }
  static Status PreconditionFailed(std::string m) { return Status(Code::kPreconditionFailed, std::move(m)); }
  static Status IoError(std::string m) { return Status(Code::kIoError, std::move(m)); }
  // errno -> Status, for the bottom edge of the local store. `what` must not hold a plaintext name.
  static Status FromErrno(int err, const std::string& what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or a non-ok Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace phrfs

// Early-return helpers. PHRFS_ASSIGN_OR_RETURN(auto x, Expr()) declares x from a Result.
#define PHRFS_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::phrfs::Status phrfs_st_ = (expr);      \
    if (!phrfs_st_.ok()) return phrfs_st_;   \
  } while (0)

#define PHRFS_CONCAT_INNER(a, b) a##b
#define PHRFS_CONCAT(a, b) PHRFS_CONCAT_INNER(a, b)
#define PHRFS_ASSIGN_OR_RETURN(lhs, expr) \
  PHRFS_ASSIGN_OR_RETURN_IMPL(PHRFS_CONCAT(phrfs_res_, __LINE__), lhs, expr)
#define PHRFS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
