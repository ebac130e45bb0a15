#include "fs/to_errno.h"

#include <cerrno>

namespace phrfs::fs {

int ToErrno(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return 0;
    case Code::kNotFound: return ENOENT;
    case Code::kAlreadyExists: return EEXIST;
    case Code::kNotEmpty: return ENOTEMPTY;
    case Code::kNotADirectory: return ENOTDIR;
    case Code::kIsADirectory: return EISDIR;
    case Code::kNameTooLong: return ENAMETOOLONG;
    case Code::kPermissionDenied: return EACCES;
    case Code::kNotPermitted: return EPERM;
    case Code::kInvalidArgument: return EINVAL;
    case Code::kNoSpace: return ENOSPC;
    case Code::kReadOnly: return EROFS;
    case Code::kBusy: return EBUSY;
    case Code::kCrossDevice: return EXDEV;
    case Code::kNotSupported: return EOPNOTSUPP;
    case Code::kTooManyLinks: return EMLINK;
    case Code::kPreconditionFailed: return EIO;
    // The store did not answer in time (a remote server down or stalled, after retries): a
    // blocking read must not get EAGAIN, which some programs retry forever.
    case Code::kUnavailable: return ETIMEDOUT;
    // Anything that failed authentication or could not be read is EIO: never wrong bytes.
    case Code::kCorrupt: return EIO;
    case Code::kWrongKey: return EACCES;
    case Code::kIoError: return EIO;
    case Code::kNoResources: return ENFILE;
    case Code::kOutOfMemory: return ENOMEM;
    case Code::kFileTooBig: return EFBIG;
  }
  return EIO;
}

}  // namespace phrfs::fs
