// SPDX-License-Identifier: Apache-2.0
#include "palmvein/sensor.hpp"

namespace palmvein {
inline namespace v1 {

std::string_view to_string(DeviceFault fault) noexcept {
  switch (fault) {
    case DeviceFault::NotFound: return "not-found";
    case DeviceFault::Busy: return "busy";
    case DeviceFault::Permission: return "permission";
    case DeviceFault::Protocol: return "protocol";
    case DeviceFault::Timeout: return "timeout";
    case DeviceFault::Removed: return "removed";
    case DeviceFault::Io: return "io";
    case DeviceFault::Cancelled: return "cancelled";
    case DeviceFault::Unsupported: return "unsupported";
  }
  return "unknown";
}

}  // namespace v1
}  // namespace palmvein
