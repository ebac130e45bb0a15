#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace phrfs {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "Ok";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kNotEmpty: return "NotEmpty";
    case Code::kNotADirectory: return "NotADirectory";
    case Code::kIsADirectory: return "IsADirectory";
    case Code::kNameTooLong: return "NameTooLong";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kNotPermitted: return "NotPermitted";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNoSpace: return "NoSpace";
    case Code::kReadOnly: return "ReadOnly";
    case Code::kBusy: return "Busy";
    case Code::kCrossDevice: return "CrossDevice";
    case Code::kNotSupported: return "NotSupported";
    case Code::kTooManyLinks: return "TooManyLinks";
    case Code::kPreconditionFailed: return "PreconditionFailed";
    case Code::kUnavailable: return "Unavailable";
    case Code::kCorrupt: return "Corrupt";
    case Code::kWrongKey: return "WrongKey";
    case Code::kIoError: return "IoError";
    case Code::kNoResources: return "NoResources";
    case Code::kOutOfMemory: return "OutOfMemory";
    case Code::kFileTooBig: return "FileTooBig";
  }
  return "Unknown";
}

Status Status::FromErrno(int err, const std::string& what) {
  Code code = Code::kIoError;
  switch (err) {
    case ENOENT: code = Code::kNotFound; break;
    case EEXIST: code = Code::kAlreadyExists; break;
    case ENOTEMPTY: code = Code::kNotEmpty; break;
    case ENOTDIR: code = Code::kNotADirectory; break;
    case EISDIR: code = Code::kIsADirectory; break;
    case ENAMETOOLONG: code = Code::kNameTooLong; break;
    case EACCES: code = Code::kPermissionDenied; break;
    case EPERM: code = Code::kNotPermitted; break;
    case EINVAL: code = Code::kInvalidArgument; break;
    case ENOSPC:
    case EDQUOT: code = Code::kNoSpace; break;
    case EROFS: code = Code::kReadOnly; break;
    case EBUSY: code = Code::kBusy; break;
    case EXDEV: code = Code::kCrossDevice; break;
    case ENOTSUP: code = Code::kNotSupported; break;
    case EMLINK: code = Code::kTooManyLinks; break;
    case EMFILE:
    case ENFILE: code = Code::kNoResources; break;
    case ENOMEM: code = Code::kOutOfMemory; break;
    case EFBIG: code = Code::kFileTooBig; break;
    case EAGAIN:
    case EINTR:
    case ETIMEDOUT: code = Code::kUnavailable; break;
    default: break;
  }
  return Status(code, what + ": " + std::strerror(err));
}

std::string Status::ToString() const {
  if (ok()) return "Ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace phrfs
