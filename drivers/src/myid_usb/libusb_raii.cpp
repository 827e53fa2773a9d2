// SPDX-License-Identifier: Apache-2.0
#include "myid_usb/libusb_raii.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <utility>

#include "usb_ids.hpp"

namespace palmvein::drivers::usb {

DeviceFault fault_from_error(int err) noexcept {
  switch (err) {
    case LIBUSB_ERROR_BUSY: return DeviceFault::Busy;
    case LIBUSB_ERROR_ACCESS: return DeviceFault::Permission;
    case LIBUSB_ERROR_PIPE: return DeviceFault::Protocol;
    case LIBUSB_ERROR_OVERFLOW: return DeviceFault::Protocol;
    case LIBUSB_ERROR_TIMEOUT: return DeviceFault::Timeout;
    case LIBUSB_ERROR_NO_DEVICE: return DeviceFault::Removed;
    case LIBUSB_ERROR_NOT_FOUND: return DeviceFault::NotFound;
    case LIBUSB_ERROR_NOT_SUPPORTED: return DeviceFault::Unsupported;
    case LIBUSB_ERROR_INTERRUPTED: return DeviceFault::Cancelled;
    default: return DeviceFault::Io;
  }
}

DeviceFault fault_from_status(libusb_transfer_status status) noexcept {
  switch (status) {
    case LIBUSB_TRANSFER_COMPLETED: return DeviceFault::Io;  // not a fault; callers check first
    case LIBUSB_TRANSFER_TIMED_OUT: return DeviceFault::Timeout;
    case LIBUSB_TRANSFER_STALL: return DeviceFault::Protocol;
    case LIBUSB_TRANSFER_NO_DEVICE: return DeviceFault::Removed;
    case LIBUSB_TRANSFER_CANCELLED: return DeviceFault::Cancelled;
    case LIBUSB_TRANSFER_OVERFLOW: return DeviceFault::Protocol;
    case LIBUSB_TRANSFER_ERROR: return DeviceFault::Io;
  }
  return DeviceFault::Io;
}

void throw_error(int err, std::string_view what) {
  std::string message = std::string(what) + ": " + libusb_error_name(err);
  if (err == LIBUSB_ERROR_ACCESS) message += " (" + std::string(kUdevRulesHint) + ")";
  if (err == LIBUSB_ERROR_BUSY) message += " (another program or handle has claimed it)";
  if (err == LIBUSB_ERROR_NO_DEVICE) message += " (the device was unplugged)";
  throw DeviceError(fault_from_error(err), message);
}

Context make_context() {
  libusb_context* ctx = nullptr;
  if (int r = libusb_init(&ctx); r != 0) throw_error(r, "libusb_init");
  return Context(ctx);
}

std::vector<DeviceRef> list_devices(libusb_context* ctx) {
  libusb_device** list = nullptr;
  const ssize_t n = libusb_get_device_list(ctx, &list);
  if (n < 0) throw_error(static_cast<int>(n), "libusb_get_device_list");
  std::vector<DeviceRef> out;
  out.reserve(static_cast<std::size_t>(n));
  for (ssize_t i = 0; i < n; ++i) out.push_back(DeviceRef{{libusb_ref_device(list[i]), {}}});
  libusb_free_device_list(list, 1);
  return out;
}

ClaimedInterface::ClaimedInterface(libusb_device_handle* handle, int interface_number, std::string_view name) {
  if (int r = libusb_claim_interface(handle, interface_number); r != 0) {
    throw_error(r, std::string(name) + ": cannot claim interface " + std::to_string(interface_number));
  }
  handle_ = handle;
  number_ = interface_number;
}

ClaimedInterface::ClaimedInterface(ClaimedInterface&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), number_(std::exchange(other.number_, -1)) {}

ClaimedInterface& ClaimedInterface::operator=(ClaimedInterface&& other) noexcept {
  if (this != &other) {
    if (handle_) libusb_release_interface(handle_, number_);
    handle_ = std::exchange(other.handle_, nullptr);
    number_ = std::exchange(other.number_, -1);
  }
  return *this;
}

ClaimedInterface::~ClaimedInterface() {
  if (handle_) libusb_release_interface(handle_, number_);  // fails harmlessly on a removed device
}

namespace {

bool parse_hex16(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 4) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

Selector parse_selector(std::string_view path, std::string_view uri) {
  Selector s;
  const auto bad = [&] {
    return InvalidArgument("sensor URI '" + std::string(uri) + "': expected VID:PID[:SERIAL] in hex, e.g. 1209:000a");
  };
  const std::size_t c1 = path.find(':');
  if (c1 == std::string_view::npos) throw bad();
  const std::size_t c2 = path.find(':', c1 + 1);
  const std::string_view pid = path.substr(c1 + 1, c2 == std::string_view::npos ? std::string_view::npos : c2 - c1 - 1);
  if (!parse_hex16(path.substr(0, c1), s.vendor_id) || !parse_hex16(pid, s.product_id)) throw bad();
  if (c2 != std::string_view::npos) {
    s.serial = std::string(path.substr(c2 + 1));
    if (s.serial.empty()) throw bad();
  }
  return s;
}

std::string format_id(std::uint16_t vendor_id, std::uint16_t product_id) {
  char text[16];
  std::snprintf(text, sizeof text, "%04x:%04x", vendor_id, product_id);
  return text;
}

std::string read_string(libusb_device_handle* handle, std::uint8_t index) {
  if (index == 0) return {};
  unsigned char text[128] = {};
  const int n = libusb_get_string_descriptor_ascii(handle, index, text, sizeof text - 1);
  if (n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n));
}

AsyncTransfer::AsyncTransfer(libusb_context* ctx, std::size_t buffer_size)
    : ctx_(ctx), buffer_(buffer_size), transfer_(libusb_alloc_transfer(0)) {
  if (!transfer_) throw DeviceError(DeviceFault::Io, "libusb_alloc_transfer: out of memory");
}

AsyncTransfer::~AsyncTransfer() {
  cancel_and_wait();
  // If libusb never handed it back (it always does: cancel, timeout or disconnect), leaking the
  // transfer and its buffer is the safe choice over freeing memory libusb may still write.
  if (in_flight_) {
    new std::vector<std::uint8_t>(std::move(buffer_));  // deliberate leak, see above
    return;
  }
  libusb_free_transfer(transfer_);
}

void LIBUSB_CALL AsyncTransfer::on_complete(libusb_transfer* transfer) {
  auto* self = static_cast<AsyncTransfer*>(transfer->user_data);
  self->in_flight_ = false;
  self->completed_ = 1;
}

int AsyncTransfer::submit_bulk(libusb_device_handle* handle, std::uint8_t endpoint, std::chrono::milliseconds timeout) {
  const auto ms = static_cast<unsigned>(std::max<std::int64_t>(1, timeout.count()));
  libusb_fill_bulk_transfer(transfer_, handle, endpoint, buffer_.data(), static_cast<int>(buffer_.size()), on_complete,
                            this, ms);
  completed_ = 0;
  const int r = libusb_submit_transfer(transfer_);
  if (r == 0) {
    in_flight_ = true;
  } else {
    completed_ = 1;
  }
  return r;
}

bool AsyncTransfer::wait(std::chrono::milliseconds slice) {
  if (!in_flight_) return true;
  timeval tv{static_cast<time_t>(slice.count() / 1000), static_cast<suseconds_t>((slice.count() % 1000) * 1000)};
  libusb_handle_events_timeout_completed(ctx_, &tv, &completed_);
  return !in_flight_;
}

void AsyncTransfer::cancel_and_wait() noexcept {
  if (!in_flight_) return;
  libusb_cancel_transfer(transfer_);
  // libusb completes a cancelled transfer on the next event-loop pass; bound the wait anyway.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (in_flight_ && std::chrono::steady_clock::now() < deadline) {
    timeval tv{0, 20000};
    libusb_handle_events_timeout_completed(ctx_, &tv, &completed_);
  }
}

}  // namespace palmvein::drivers::usb
