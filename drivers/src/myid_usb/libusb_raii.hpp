// SPDX-License-Identifier: Apache-2.0
// RAII wrappers over libusb-1.0 and the mapping of libusb results to palmvein::DeviceError.
// Shared by the MyID driver and the UVC driver (libuvc sits on a libusb context too).
// Thread-safety: each object is owned by one sensor and used by its thread; AsyncTransfer's
// request_cancel() and Context::interrupt() may be called from any thread.
#pragma once

#include <libusb.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/sensor.hpp"

namespace palmvein::drivers::usb {

// The fault a libusb error code or transfer status stands for (table in docs/usb-protocol.md).
DeviceFault fault_from_error(int libusb_error) noexcept;
DeviceFault fault_from_status(libusb_transfer_status status) noexcept;
// Throws DeviceError(fault_from_error(err)) with "<what>: <libusb name>" (and a udev hint for ACCESS).
[[noreturn]] void throw_error(int libusb_error, std::string_view what);

struct ContextDeleter {
  void operator()(libusb_context* ctx) const noexcept { libusb_exit(ctx); }
};
using Context = std::unique_ptr<libusb_context, ContextDeleter>;
// A fresh libusb context (one per sensor: no shared event loop, no cross-sensor interference).
Context make_context();

struct HandleDeleter {
  void operator()(libusb_device_handle* h) const noexcept { libusb_close(h); }
};
using Handle = std::unique_ptr<libusb_device_handle, HandleDeleter>;

struct DeviceRef {  // a referenced libusb_device
  struct Unref {
    void operator()(libusb_device* d) const noexcept { libusb_unref_device(d); }
  };
  std::unique_ptr<libusb_device, Unref> dev;
};

// A snapshot of the connected devices; each element holds a reference.
std::vector<DeviceRef> list_devices(libusb_context* ctx);

// A claimed interface, released on destruction.
class ClaimedInterface {
 public:
  ClaimedInterface() = default;
  // Throws DeviceError(Busy) when another process or handle holds the interface.
  ClaimedInterface(libusb_device_handle* handle, int interface_number, std::string_view device_name);
  ClaimedInterface(ClaimedInterface&& other) noexcept;
  ClaimedInterface& operator=(ClaimedInterface&& other) noexcept;
  ~ClaimedInterface();
  int number() const noexcept { return number_; }

 private:
  libusb_device_handle* handle_ = nullptr;
  int number_ = -1;
};

struct Selector {  // "VID:PID[:SERIAL]"
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  std::string serial;  // empty: any unit
};
// Throws InvalidArgument naming `uri` when `path` is not "VID:PID[:SERIAL]" in hex.
Selector parse_selector(std::string_view path, std::string_view uri);
std::string format_id(std::uint16_t vendor_id, std::uint16_t product_id);  // "1209:000a"

// iSerialNumber etc. as ASCII; empty when the index is 0 or the device does not answer.
std::string read_string(libusb_device_handle* handle, std::uint8_t index);

// One asynchronous transfer and its buffer. The destructor cancels an in-flight transfer and
// runs the event loop until libusb hands it back, so the buffer is never freed under libusb.
class AsyncTransfer {
 public:
  AsyncTransfer(libusb_context* ctx, std::size_t buffer_size);
  ~AsyncTransfer();
  AsyncTransfer(const AsyncTransfer&) = delete;
  AsyncTransfer& operator=(const AsyncTransfer&) = delete;

  // Submits a bulk transfer; returns a libusb error code (0 on success).
  int submit_bulk(libusb_device_handle* handle, std::uint8_t endpoint, std::chrono::milliseconds timeout);
  bool in_flight() const noexcept { return in_flight_; }
  // Runs the context's event loop for at most `slice`; returns true once the transfer completed.
  bool wait(std::chrono::milliseconds slice);
  // Cancels an in-flight transfer and waits (bounded) for libusb to hand it back.
  void cancel_and_wait() noexcept;
  libusb_transfer_status status() const noexcept { return transfer_->status; }
  std::span<const std::uint8_t> data() const noexcept {
    return {buffer_.data(), static_cast<std::size_t>(transfer_->actual_length)};
  }

 private:
  static void LIBUSB_CALL on_complete(libusb_transfer* transfer);

  libusb_context* ctx_;
  std::vector<std::uint8_t> buffer_;
  libusb_transfer* transfer_;
  int completed_ = 1;
  bool in_flight_ = false;
};

}  // namespace palmvein::drivers::usb
