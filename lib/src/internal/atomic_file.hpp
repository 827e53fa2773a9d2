// SPDX-License-Identifier: Apache-2.0
// (Internal.) The library's code names the atomic writers as internal::…; they are public API now
// (palmvein/files.hpp), declared once there.
#pragma once

#include "palmvein/files.hpp"

namespace palmvein::internal {
using palmvein::StagedFiles;
using palmvein::write_file_atomically;
}  // namespace palmvein::internal
