// SPDX-License-Identifier: Apache-2.0
// (Internal.) The library's code names the bounded reader as io::…; it is public API now
// (palmvein/files.hpp), declared once there.
#pragma once

#include "palmvein/files.hpp"

namespace palmvein::io {
using palmvein::kMaxImageFileBytes;
using palmvein::kMaxScoreFileBytes;
using palmvein::kMaxTextInputBytes;
using palmvein::read_file_bounded;
}  // namespace palmvein::io
