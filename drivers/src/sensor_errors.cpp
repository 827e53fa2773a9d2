// SPDX-License-Identifier: Apache-2.0
#include "palmvein/sensor.hpp"

namespace palmvein {
inline namespace v1 {

std::string_view to_string(RetryReason reason) noexcept {
  switch (reason) {
    case RetryReason::NoPalm: return "no-palm";
    case RetryReason::TooClose: return "too-close";
    case RetryReason::TooFar: return "too-far";
    case RetryReason::NotCentred: return "not-centred";
    case RetryReason::Moving: return "moving";
    case RetryReason::TooBright: return "too-bright";
    case RetryReason::TooDark: return "too-dark";
  }
  return "unknown";
}

std::string_view guidance(RetryReason reason) noexcept {
  switch (reason) {
    case RetryReason::NoPalm: return "Hold your open palm over the sensor";
    case RetryReason::TooClose: return "Move your palm a little further away";
    case RetryReason::TooFar: return "Move your palm closer to the sensor";
    case RetryReason::NotCentred: return "Centre your palm over the sensor";
    case RetryReason::Moving: return "Hold your palm still";
    case RetryReason::TooBright: return "Too bright: move away from strong light";
    case RetryReason::TooDark: return "Too dark: move your palm closer";
  }
  return "";
}

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
