// SPDX-License-Identifier: Apache-2.0
// (Internal.) The library's code names the thread pool internal::ThreadPool; it is public API now
// (palmvein/thread_pool.hpp), declared once there.
#pragma once

#include "palmvein/thread_pool.hpp"

namespace palmvein::internal {
using palmvein::ThreadPool;
}  // namespace palmvein::internal
