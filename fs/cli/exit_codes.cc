// ExitCodeFor: a failed step's Status becomes the exit code that man/phrfs.1 promises for it.
#include "fs/cli/exit_codes.h"

namespace phrfs::fs {

ExitCode ExitCodeFor(Step step, const Status& status) {
  if (status.ok()) return kExitOk;
  if (status.code() == Code::kWrongKey) return kExitWrongPassphrase;
  switch (step) {
    case Step::kCommandLine:
      return kExitUsage;
    case Step::kPassphrase:
      return kExitPassfile;
    case Step::kStore:
      switch (status.code()) {
        case Code::kNotFound:
        case Code::kNotADirectory:
          return kExitNoStore;
        case Code::kCorrupt:
        case Code::kNotSupported:
          return kExitCorruptStore;
        case Code::kAlreadyExists:
          return kExitStoreExists;
        case Code::kUnavailable:
          return kExitUnreachable;
        case Code::kPermissionDenied:
          return kExitAccessDenied;
        default:
          return kExitFailure;
      }
    case Step::kMountpoint:
      return kExitBadMountpoint;
    case Step::kMount:
      return kExitFuse;
    case Step::kOther:
      return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace phrfs::fs
