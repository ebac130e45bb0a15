// The one place a Status becomes an errno (STYLE "Errors"): called at the FUSE edge only.
#pragma once

#include "base/status.h"

namespace phrfs::fs {

int ToErrno(const Status& status);

}  // namespace phrfs::fs
