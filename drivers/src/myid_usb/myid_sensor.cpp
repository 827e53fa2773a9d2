// SPDX-License-Identifier: Apache-2.0
// MyID Palm driver. An explicit state machine (State below); Idle issues only synchronous control
// transfers, Streaming keeps at most one bulk-IN transfer in flight; every transfer has a timeout
// and is owned by RAII (libusb_raii.hpp), so no error path can leak a transfer, handle or context.
#include "myid_usb/myid_sensor.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <optional>

#include "myid_usb/frame_parser.hpp"
#include "myid_usb/libusb_raii.hpp"
#include "myid_usb/protocol.hpp"
#include "usb_ids.hpp"

namespace palmvein::drivers {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long one event-loop pass may block before grab() re-checks cancel() and its deadline.
constexpr auto kEventSlice = 50ms;

struct Interface {
  int number = -1;
  std::uint8_t endpoint = 0;
};

// The MyID interface of `dev` (class/subclass/protocol triple), if it has one.
std::optional<Interface> find_interface(libusb_device* dev) {
  libusb_config_descriptor* config = nullptr;
  if (libusb_get_active_config_descriptor(dev, &config) != 0 &&
      libusb_get_config_descriptor(dev, 0, &config) != 0) {
    return std::nullopt;
  }
  std::optional<Interface> found;
  for (int i = 0; i < config->bNumInterfaces && !found; ++i) {
    for (int a = 0; a < config->interface[i].num_altsetting && !found; ++a) {
      const libusb_interface_descriptor& alt = config->interface[i].altsetting[a];
      if (alt.bInterfaceClass != myid::kInterfaceClass || alt.bInterfaceSubClass != myid::kInterfaceSubClass ||
          alt.bInterfaceProtocol != myid::kInterfaceProtocol) {
        continue;
      }
      for (int e = 0; e < alt.bNumEndpoints; ++e) {
        const libusb_endpoint_descriptor& ep = alt.endpoint[e];
        if (ep.bEndpointAddress == myid::kFrameEndpoint &&
            (ep.bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) == LIBUSB_TRANSFER_TYPE_BULK) {
          found = Interface{alt.bInterfaceNumber, ep.bEndpointAddress};
        }
      }
    }
  }
  libusb_free_config_descriptor(config);
  return found;
}

bool is_myid(libusb_device* dev, const libusb_device_descriptor& desc) {
  const KnownUsbId* known = find_usb_id(desc.idVendor, desc.idProduct);
  if (known && known->driver != UsbDriver::MyIdUsb) return false;
  return find_interface(dev).has_value();
}

std::string make_uri(std::uint16_t vid, std::uint16_t pid, const std::string& serial) {
  return "usb:" + usb::format_id(vid, pid) + (serial.empty() ? "" : ":" + serial);
}

class MyIdSensor final : public Sensor {
 public:
  MyIdSensor(usb::Context ctx, usb::Handle handle, const Interface& iface, const libusb_device_descriptor& desc,
             const MyIdOptions& options)
      : options_(options), ctx_(std::move(ctx)), handle_(std::move(handle)), endpoint_(iface.endpoint) {
    id_ = usb::format_id(desc.idVendor, desc.idProduct);
    claim_ = usb::ClaimedInterface(handle_.get(), iface.number, "MyID sensor " + id_);
    interface_ = iface.number;
    // GET_INFO, GET_FIRMWARE, GET_SERIAL; STOP_STREAM puts a device left streaming by a crashed
    // process back into a known state.
    std::array<std::uint8_t, myid::kInfoSize> info_bytes{};
    control_in(myid::Request::GetInfo, info_bytes);
    const auto info = myid::decode_info(info_bytes);
    if (!info) throw DeviceError(DeviceFault::Protocol, "MyID sensor " + id_ + ": GET_INFO reply is not protocol v1");
    device_ = *info;
    std::array<std::uint8_t, myid::kStringSize> text{};
    control_in(myid::Request::GetFirmware, text);
    info_.firmware = myid::decode_string(text);
    control_in(myid::Request::GetSerial, text);
    info_.serial = myid::decode_string(text);
    if (info_.serial.empty()) info_.serial = usb::read_string(handle_.get(), desc.iSerialNumber);
    control_out(myid::Request::StopStream, {});
    info_.uri = make_uri(desc.idVendor, desc.idProduct, info_.serial);
    info_.driver = "myid-usb";
    info_.name = device_.model.empty() ? "MyID Palm" : device_.model;
    parser_.emplace(device_);
    transfer_ = std::make_unique<usb::AsyncTransfer>(
        ctx_.get(), (myid::kHeaderSize + device_.payload_size() + 1023) / 512 * 512);
  }

  ~MyIdSensor() override {
    transfer_.reset();  // cancels and reaps an in-flight transfer before anything else goes
    if (state_ == State::Streaming) {
      libusb_control_transfer(handle_.get(), myid::kRequestTypeOut, static_cast<std::uint8_t>(myid::Request::StopStream),
                              0, static_cast<std::uint16_t>(interface_), nullptr, 0,
                              static_cast<unsigned>(options_.stop_timeout.count()));
    }
  }

  SensorInfo info() const override { return info_; }

  SensorCapabilities capabilities() const override {
    SensorCapabilities caps;
    caps.width = device_.width;
    caps.height = device_.height;
    caps.bit_depth = device_.significant_bits;
    caps.wavelengths_nm.assign(device_.wavelengths_nm.begin(), device_.wavelengths_nm.begin() + device_.bank_count);
    caps.illumination_levels = device_.illumination_levels;
    caps.exposure_min_us = device_.exposure_min_us;
    caps.exposure_max_us = device_.exposure_max_us;
    caps.max_fps = device_.max_fps_x100 / 100.0;
    return caps;
  }

  void start() override {
    check_alive();
    if (state_ == State::Streaming) return;
    cancel_requested_ = false;
    parser_->reset();
    control_out(myid::Request::StartStream, {});
    state_ = State::Streaming;
  }

  void stop() override {
    if (state_ != State::Streaming) return;
    transfer_->cancel_and_wait();
    state_ = State::Idle;
    parser_->reset();
    control_out(myid::Request::StopStream, {});
  }

  Frame grab(std::chrono::milliseconds timeout) override {
    check_alive();
    if (state_ != State::Streaming) throw DeviceError(DeviceFault::Io, "MyID sensor " + id_ + ": grab() before start()");
    const auto deadline = Clock::now() + timeout;
    while (true) {
      if (auto frame = parser_->pop()) return to_frame(*frame);
      if (cancel_requested_.exchange(false)) {
        transfer_->cancel_and_wait();
        throw DeviceError(DeviceFault::Cancelled, "MyID sensor " + id_ + ": grab() cancelled");
      }
      const auto now = Clock::now();
      if (now >= deadline) {
        transfer_->cancel_and_wait();
        throw DeviceError(DeviceFault::Timeout, "MyID sensor " + id_ + ": no valid frame within " +
                                                    std::to_string(timeout.count()) + " ms");
      }
      if (!transfer_->in_flight()) {
        const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        if (int r = transfer_->submit_bulk(handle_.get(), endpoint_, std::min(remaining, options_.bulk_timeout)); r != 0) {
          fail_on(usb::fault_from_error(r));
          usb::throw_error(r, "MyID sensor " + id_ + ": bulk-IN submit");
        }
      }
      if (!transfer_->wait(kEventSlice)) continue;
      switch (transfer_->status()) {
        case LIBUSB_TRANSFER_COMPLETED: parser_->feed(transfer_->data()); break;
        case LIBUSB_TRANSFER_TIMED_OUT: parser_->feed(transfer_->data()); break;  // deadline checked above
        case LIBUSB_TRANSFER_CANCELLED: break;  // ours: cancel flag or deadline handled above
        case LIBUSB_TRANSFER_STALL:
          libusb_clear_halt(handle_.get(), endpoint_);
          throw DeviceError(DeviceFault::Protocol, "MyID sensor " + id_ + ": frame endpoint stalled (halt cleared)");
        case LIBUSB_TRANSFER_NO_DEVICE:
          fail_on(DeviceFault::Removed);
          throw DeviceError(DeviceFault::Removed, "MyID sensor " + id_ + ": unplugged while streaming");
        default:
          throw DeviceError(usb::fault_from_status(transfer_->status()),
                            "MyID sensor " + id_ + ": bulk-IN transfer failed: " +
                                libusb_error_name(LIBUSB_ERROR_IO));
      }
    }
  }

  void cancel() override {
    cancel_requested_ = true;
    libusb_interrupt_event_handler(ctx_.get());
  }

  void set_illumination(int wavelength_nm, int level) override {
    check_alive();
    if (device_.illumination_levels == 0 || device_.bank_count == 0) {
      throw DeviceError(DeviceFault::Unsupported, "MyID sensor " + id_ + ": illumination is fixed");
    }
    const auto banks = capabilities().wavelengths_nm;
    if (std::find(banks.begin(), banks.end(), wavelength_nm) == banks.end()) {
      throw InvalidArgument("MyID sensor " + id_ + ": no " + std::to_string(wavelength_nm) + " nm illumination bank");
    }
    if (level < 0 || level >= device_.illumination_levels) {
      throw InvalidArgument("MyID sensor " + id_ + ": illumination level " + std::to_string(level) + " outside 0.." +
                            std::to_string(device_.illumination_levels - 1));
    }
    const auto payload =
        myid::encode_illumination(static_cast<std::uint16_t>(wavelength_nm), static_cast<std::uint8_t>(level));
    control_out(myid::Request::SetIllumination, payload);
  }

  void set_exposure(std::uint32_t exposure_us, float gain) override {
    check_alive();
    if (exposure_us < device_.exposure_min_us || exposure_us > device_.exposure_max_us) {
      throw InvalidArgument("MyID sensor " + id_ + ": exposure " + std::to_string(exposure_us) + " us outside " +
                            std::to_string(device_.exposure_min_us) + ".." + std::to_string(device_.exposure_max_us));
    }
    if (!(gain >= 1.0f / 256) || gain > 255.0f) {
      throw InvalidArgument("MyID sensor " + id_ + ": gain must lie in [1/256, 255]");
    }
    const auto payload = myid::encode_exposure(exposure_us, static_cast<std::uint16_t>(std::lround(gain * 256)));
    control_out(myid::Request::SetExposure, payload);
  }

 private:
  enum class State { Idle, Streaming, Failed };

  void check_alive() const {
    if (state_ == State::Failed) throw DeviceError(failed_fault_, "MyID sensor " + id_ + ": " + failed_message_);
  }

  // Removed is terminal: every later call reports it (the object must be reopened).
  void fail_on(DeviceFault fault) {
    if (fault != DeviceFault::Removed) return;
    state_ = State::Failed;
    failed_fault_ = fault;
    failed_message_ = "device was unplugged; reopen it";
  }

  void control(std::uint8_t request_type, myid::Request request, std::uint8_t* data, std::size_t size) {
    const int r = libusb_control_transfer(handle_.get(), request_type, static_cast<std::uint8_t>(request), 0,
                                          static_cast<std::uint16_t>(interface_), data, static_cast<std::uint16_t>(size),
                                          static_cast<unsigned>(options_.control_timeout.count()));
    char what[96];
    std::snprintf(what, sizeof what, "MyID sensor %s: control request 0x%02x", id_.c_str(),
                  static_cast<unsigned>(request));
    if (r < 0) {
      fail_on(usb::fault_from_error(r));
      usb::throw_error(r, what);
    }
    if (static_cast<std::size_t>(r) != size) {
      throw DeviceError(DeviceFault::Protocol, std::string(what) + ": short reply (" + std::to_string(r) + " of " +
                                                   std::to_string(size) + " bytes)");
    }
  }
  void control_in(myid::Request request, std::span<std::uint8_t> data) {
    control(myid::kRequestTypeIn, request, data.data(), data.size());
  }
  void control_out(myid::Request request, std::span<const std::uint8_t> data) {
    std::vector<std::uint8_t> copy(data.begin(), data.end());  // libusb takes a non-const buffer
    control(myid::kRequestTypeOut, request, copy.data(), copy.size());
  }

  Frame to_frame(const myid::ParsedFrame& parsed) const {
    Frame frame;
    const auto& h = parsed.header;
    if (h.pixel_format == myid::WirePixelFormat::Gray8) {
      frame.image = Image::from_gray8(h.width, h.height, parsed.pixels.data(), h.width);
    } else {
      std::vector<std::uint16_t> pixels(std::size_t{h.width} * h.height);
      for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = myid::get_u16(&parsed.pixels[2 * i]);
      frame.image = Image::from_gray16(h.width, h.height, pixels.data(), std::size_t{h.width} * 2, h.significant_bits);
    }
    frame.timestamp = Clock::now();
    frame.counter = h.frame_counter;
    frame.exposure_us = h.exposure_us;
    frame.gain = h.gain_q8 / 256.0f;
    frame.illumination_level = h.illumination_level;
    frame.wavelength_nm = h.wavelength_nm;
    return frame;
  }

  MyIdOptions options_;
  // Declaration order is destruction order in reverse: transfer, claim, handle, context.
  usb::Context ctx_;
  usb::Handle handle_;
  usb::ClaimedInterface claim_;
  std::unique_ptr<usb::AsyncTransfer> transfer_;
  std::string id_;
  int interface_ = -1;
  std::uint8_t endpoint_ = 0;
  myid::DeviceInfo device_;
  SensorInfo info_;
  std::optional<myid::FrameParser> parser_;
  State state_ = State::Idle;
  DeviceFault failed_fault_ = DeviceFault::Removed;
  std::string failed_message_;
  std::atomic<bool> cancel_requested_{false};
};

}  // namespace

void MyIdOptions::check() const {
  if (control_timeout <= 0ms || bulk_timeout <= 0ms || stop_timeout <= 0ms) {
    throw InvalidArgument("MyIdOptions: every timeout must be positive");
  }
}

std::unique_ptr<Sensor> open_myid_usb(std::string_view path, std::string_view uri, const MyIdOptions& options) {
  options.check();
  const usb::Selector want = usb::parse_selector(path, uri);
  usb::Context ctx = usb::make_context();
  const std::string id = usb::format_id(want.vendor_id, want.product_id);
  int open_error = 0;
  for (auto& ref : usb::list_devices(ctx.get())) {
    libusb_device_descriptor desc{};
    if (libusb_get_device_descriptor(ref.dev.get(), &desc) != 0) continue;
    if (desc.idVendor != want.vendor_id || desc.idProduct != want.product_id) continue;
    const auto iface = find_interface(ref.dev.get());
    if (!iface) {
      throw DeviceError(DeviceFault::Unsupported,
                        "USB device " + id + " has no MyID interface (class ff/50/01); is it a UVC camera (uvc:" + id + ")?");
    }
    libusb_device_handle* raw = nullptr;
    if (int r = libusb_open(ref.dev.get(), &raw); r != 0) {
      open_error = r;
      continue;
    }
    usb::Handle handle(raw);
    if (!want.serial.empty() && usb::read_string(handle.get(), desc.iSerialNumber) != want.serial) continue;
    return std::make_unique<MyIdSensor>(std::move(ctx), std::move(handle), *iface, desc, options);
  }
  if (open_error != 0) usb::throw_error(open_error, "cannot open MyID sensor " + std::string(uri));
  throw DeviceError(DeviceFault::NotFound, "no MyID sensor " + std::string(uri) + " is connected");
}

std::unique_ptr<Sensor> open_myid_usb(const SensorUri& uri) {
  uri.reject_unknown_keys({"control_timeout_ms", "bulk_timeout_ms"});
  MyIdOptions options;
  options.control_timeout = std::chrono::milliseconds(uri.get_int("control_timeout_ms", 500, 1, 60000));
  options.bulk_timeout = std::chrono::milliseconds(uri.get_int("bulk_timeout_ms", 1000, 1, 60000));
  return open_myid_usb(uri.path, uri.text, options);
}

std::vector<SensorInfo> enumerate_myid_usb() {
  std::vector<SensorInfo> out;
  usb::Context ctx = usb::make_context();
  for (auto& ref : usb::list_devices(ctx.get())) {
    libusb_device_descriptor desc{};
    if (libusb_get_device_descriptor(ref.dev.get(), &desc) != 0 || !is_myid(ref.dev.get(), desc)) continue;
    SensorInfo info;
    info.driver = "myid-usb";
    const KnownUsbId* known = find_usb_id(desc.idVendor, desc.idProduct);
    info.name = known ? std::string(known->name) : "MyID Palm";
    libusb_device_handle* raw = nullptr;
    if (libusb_open(ref.dev.get(), &raw) == 0) {
      usb::Handle handle(raw);
      info.serial = usb::read_string(handle.get(), desc.iSerialNumber);
      if (std::string product = usb::read_string(handle.get(), desc.iProduct); !product.empty()) info.name = product;
    } else {
      info.name += " (no permission: " + std::string(kUdevRulesHint) + ")";
    }
    info.uri = make_uri(desc.idVendor, desc.idProduct, info.serial);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace palmvein::drivers
