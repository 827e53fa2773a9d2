// SPDX-License-Identifier: Apache-2.0
// UVC driver. libuvc finds the camera and parses its class-specific descriptors (formats, frames,
// terminals, units); this file then drives the camera itself over libusb: probe/commit, the
// streaming transfers (bulk, or isochronous on the alternate setting whose packets hold a payload),
// UVC payload reassembly, and every control request, each with a timeout. Two bugs in the Debian 12
// stack make libuvc's own streaming unsafe on unplug: libuvc 0.0.6 leaks a transfer whose
// resubmission fails and then blocks forever in uvc_stop_streaming(), and libusb 1.0.26 corrupts
// the handle's mutex when libusb_set_interface_alt_setting() runs on a detached device (libusb
// issue #1199), which uvc_close() always does. So the libuvc handle is closed right after the
// descriptors are read, and the interfaces are claimed and released here (no alt-setting call on a
// removed device).
#include "uvc/uvc_sensor.hpp"

#include <libusb.h>
#include <libuvc/libuvc.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "myid_usb/libusb_raii.hpp"
#include "usb_ids.hpp"

namespace palmvein::drivers {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// UVC 1.5 request codes, control selectors and capability bits (USB Video Class 1.5, A.8, A.9,
// 3.7.2.3 camera terminal, 3.7.2.5 processing unit).
constexpr std::uint8_t kSetCur = 0x01, kGetCur = 0x81, kGetMin = 0x82, kGetMax = 0x83;
constexpr std::uint8_t kVsProbe = 0x01, kVsCommit = 0x02;
constexpr std::uint8_t kCtAeMode = 0x02, kCtExposureAbsolute = 0x04, kPuGain = 0x04;
constexpr std::uint64_t kCtBitAeMode = 1u << 1, kCtBitExposureAbsolute = 1u << 3, kPuBitGain = 1u << 9;
constexpr std::uint8_t kAeModeManual = 0x01;
constexpr std::uint8_t kClassVideo = 0x0e, kSubclassControl = 0x01, kSubclassStreaming = 0x02;

// Streaming transfers in flight, how long one may wait for data, and the isochronous packet cap.
constexpr int kStreamTransfers = 8;
constexpr unsigned kStreamTransferTimeoutMs = 1000;
constexpr std::size_t kMaxIsoPackets = 32;

[[noreturn]] void throw_uvc(uvc_error_t e, const std::string& what) {
  std::string message = what + ": " + uvc_strerror(e);
  if (e == UVC_ERROR_BUSY) message += " (another program or handle is using the camera)";
  if (e == UVC_ERROR_ACCESS) message += " (" + std::string(kUdevRulesHint) + ")";
  throw DeviceError(usb::fault_from_error(static_cast<int>(e)), message);
}

struct UvcContextDeleter {
  void operator()(uvc_context_t* c) const noexcept { uvc_exit(c); }
};
struct UvcDeviceDeleter {
  void operator()(uvc_device_t* d) const noexcept { uvc_unref_device(d); }
};
struct UvcHandleDeleter {
  void operator()(uvc_device_handle_t* h) const noexcept { uvc_close(h); }
};

enum class Kind { Gray8, Yuyv, Mjpeg };  // in order of preference

std::optional<Kind> kind_of(const uvc_format_desc_t* f) {
  if (f->bDescriptorSubtype == UVC_VS_FORMAT_MJPEG) return Kind::Mjpeg;
  if (f->bDescriptorSubtype != UVC_VS_FORMAT_UNCOMPRESSED) return std::nullopt;
  if (std::memcmp(f->guidFormat, "Y800", 4) == 0 || std::memcmp(f->guidFormat, "GREY", 4) == 0) return Kind::Gray8;
  if (std::memcmp(f->guidFormat, "YUY2", 4) == 0) return Kind::Yuyv;
  return std::nullopt;
}

bool wanted(const std::string& format, Kind kind) {
  return format == "auto" || (format == "gray8" && kind == Kind::Gray8) || (format == "yuyv" && kind == Kind::Yuyv) ||
         (format == "mjpeg" && kind == Kind::Mjpeg);
}

std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// What the driver keeps from libuvc's descriptor parse (libuvc's structures die with its handle).
struct CameraLayout {
  Kind kind = Kind::Gray8;
  std::uint8_t format_index = 0;
  std::uint8_t frame_index = 0;
  int width = 0;
  int height = 0;
  std::uint32_t max_frame_bytes = 0;
  std::uint32_t frame_interval = 0;  // 100 ns units
  std::uint16_t bcd_uvc = 0x0100;
  std::uint8_t terminal_id = 0;
  std::uint64_t terminal_controls = 0;
  std::uint8_t gain_unit = 0;
  std::uint8_t xu_unit = 0;
  std::string serial;
  std::string product;
};

CameraLayout read_layout(uvc_device_t* dev, uvc_device_handle_t* devh, const UvcOptions& options, const std::string& id) {
  CameraLayout layout;
  const uvc_format_desc_t* best = nullptr;
  for (const uvc_format_desc_t* f = uvc_get_format_descs(devh); f; f = f->next) {
    const auto kind = kind_of(f);
    if (!kind || !wanted(options.format, *kind)) continue;
    if (!best || static_cast<int>(*kind) < static_cast<int>(layout.kind)) {
      best = f;
      layout.kind = *kind;
    }
  }
  if (!best) {
    throw DeviceError(DeviceFault::Unsupported,
                      "UVC camera " + id + ": offers no " +
                          (options.format == "auto" ? std::string("GRAY8, YUYV or MJPEG") : options.format) + " format");
  }
  const uvc_frame_desc_t* chosen = nullptr;
  for (const uvc_frame_desc_t* fr = best->frame_descs; fr; fr = fr->next) {
    if (options.width > 0 && (fr->wWidth != options.width || fr->wHeight != options.height)) continue;
    if (!chosen || fr->wWidth * fr->wHeight > chosen->wWidth * chosen->wHeight) chosen = fr;
  }
  if (!chosen) {
    throw DeviceError(DeviceFault::Unsupported, "UVC camera " + id + ": no " + std::to_string(options.width) + "x" +
                                                    std::to_string(options.height) + " frame in that format");
  }
  layout.format_index = best->bFormatIndex;
  layout.frame_index = chosen->bFrameIndex;
  layout.width = chosen->wWidth;
  layout.height = chosen->wHeight;
  layout.max_frame_bytes = chosen->dwMaxVideoFrameBufferSize;
  layout.frame_interval = chosen->dwDefaultFrameInterval;
  if (chosen->intervals) {
    for (const std::uint32_t* i = chosen->intervals; *i; ++i) {
      if (options.fps > 0 && std::lround(1e7 / *i) == options.fps) layout.frame_interval = *i;
    }
  } else if (options.fps > 0) {
    layout.frame_interval = static_cast<std::uint32_t>(1e7 / options.fps);
  }
  if (const uvc_input_terminal_t* ct = uvc_get_camera_terminal(devh)) {
    layout.terminal_id = ct->bTerminalID;
    layout.terminal_controls = ct->bmControls;
  }
  for (const uvc_processing_unit_t* pu = uvc_get_processing_units(devh); pu; pu = pu->next) {
    if (pu->bmControls & kPuBitGain) layout.gain_unit = pu->bUnitID;
  }
  for (const uvc_extension_unit_t* xu = uvc_get_extension_units(devh); xu; xu = xu->next) {
    if (std::memcmp(xu->guidExtensionCode, kUvcIlluminationXuGuid.data(), 16) == 0) layout.xu_unit = xu->bUnitID;
  }
  uvc_device_descriptor_t* desc = nullptr;
  if (uvc_get_device_descriptor(dev, &desc) == UVC_SUCCESS) {
    layout.bcd_uvc = desc->bcdUVC ? desc->bcdUVC : 0x0100;
    layout.serial = desc->serialNumber ? desc->serialNumber : "";
    layout.product = desc->product ? desc->product : "";
    uvc_free_device_descriptor(desc);
  }
  return layout;
}

// A frame as reassembled from payloads; converted to an Image on the grabbing thread.
struct RawFrame {
  std::vector<std::uint8_t> bytes;
  std::uint64_t counter = 0;  // frames reassembled since start(), good or not
  bool ok = true;             // no payload error bit, lost packet, overflow or bogus header
};

class UvcSensor final : public Sensor {
 public:
  UvcSensor(usb::Context ctx, const usb::Selector& want, std::string_view uri, const UvcOptions& options)
      : options_(options), ctx_(std::move(ctx)) {
    id_ = usb::format_id(want.vendor_id, want.product_id);
    {  // libuvc: find the camera (vid, pid, serial) and read its descriptors, then let go of it.
      uvc_context_t* uctx = nullptr;
      if (uvc_error_t e = uvc_init(&uctx, ctx_.get()); e != UVC_SUCCESS) throw_uvc(e, "uvc_init");
      std::unique_ptr<uvc_context_t, UvcContextDeleter> uvc(uctx);
      uvc_device_t* dev = nullptr;
      if (uvc_find_device(uvc.get(), &dev, want.vendor_id, want.product_id,
                          want.serial.empty() ? nullptr : want.serial.c_str()) != UVC_SUCCESS ||
          !dev) {
        throw DeviceError(DeviceFault::NotFound, "no UVC camera " + std::string(uri) + " is connected");
      }
      std::unique_ptr<uvc_device_t, UvcDeviceDeleter> device(dev);
      uvc_device_handle_t* devh = nullptr;
      if (uvc_error_t e = uvc_open(device.get(), &devh); e != UVC_SUCCESS) {
        throw_uvc(e, "cannot open " + std::string(uri));
      }
      std::unique_ptr<uvc_device_handle_t, UvcHandleDeleter> handle(devh);
      layout_ = read_layout(device.get(), handle.get(), options_, id_);
      usb_device_ = libusb_ref_device(libusb_get_device(uvc_get_libusb_handle(handle.get())));
    }
    libusb_device_handle* raw = nullptr;
    if (int r = libusb_open(usb_device_, &raw); r != 0) usb::throw_error(r, "cannot open " + std::string(uri));
    usb_.reset(raw);
    find_interfaces();
    control_claim_ = usb::ClaimedInterface(usb_.get(), control_interface_, "UVC camera " + id_);

    info_.driver = "uvc";
    info_.serial = layout_.serial;
    const KnownUsbId* known = find_usb_id(want.vendor_id, want.product_id);
    info_.name = !layout_.product.empty() ? layout_.product : known ? std::string(known->name) : "UVC camera";
    info_.uri = "uvc:" + id_ + (info_.serial.empty() ? "" : ":" + info_.serial);
    caps_.width = layout_.width;
    caps_.height = layout_.height;
    caps_.bit_depth = 8;
    if (layout_.frame_interval > 0) caps_.max_fps = 1e7 / layout_.frame_interval;
    read_control_ranges();

    // Removal: libusb hotplug (run by the event thread), so a waiting grab() learns that the
    // camera is gone even when no transfer is in flight.
    if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
      libusb_hotplug_register_callback(ctx_.get(), LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, LIBUSB_HOTPLUG_NO_FLAGS,
                                       want.vendor_id, want.product_id, LIBUSB_HOTPLUG_MATCH_ANY, &UvcSensor::on_hotplug,
                                       this, &hotplug_);
    }
    events_ = std::thread([this] { run_events(); });
  }

  ~UvcSensor() override {
    stop_streaming();
    if (hotplug_) libusb_hotplug_deregister_callback(ctx_.get(), hotplug_);
    control_claim_ = usb::ClaimedInterface();
    usb_.reset();  // libusb_close wakes the event thread to drop the handle's descriptor
    stop_events_ = true;
    libusb_interrupt_event_handler(ctx_.get());
    if (events_.joinable()) events_.join();
    libusb_unref_device(usb_device_);
  }

  SensorInfo info() const override { return info_; }
  SensorCapabilities capabilities() const override { return caps_; }

  void start() override {
    check_alive();
    if (streaming_) return;
    try {
      stream_claim_ = usb::ClaimedInterface(usb_.get(), stream_interface_, "UVC camera " + id_);
      negotiate();
      start_transfers();
    } catch (...) {
      stop_streaming();
      throw;
    }
    streaming_ = true;
  }

  void stop() override { stop_streaming(); }

  Frame grab(std::chrono::milliseconds timeout) override {
    check_alive();
    if (!streaming_) throw DeviceError(DeviceFault::Io, "UVC camera " + id_ + ": grab() before start()");
    const auto deadline = Clock::now() + timeout;
    std::unique_lock lock(mutex_);
    while (true) {
      if (removed_) throw DeviceError(DeviceFault::Removed, "UVC camera " + id_ + ": unplugged while streaming");
      if (cancel_requested_) {
        cancel_requested_ = false;
        throw DeviceError(DeviceFault::Cancelled, "UVC camera " + id_ + ": grab() cancelled");
      }
      if (have_frame_) {
        have_frame_ = false;
        RawFrame raw = std::move(latest_);
        lock.unlock();
        if (auto frame = convert(raw)) return std::move(*frame);
        lock.lock();
        ++dropped_frames_;  // short or undecodable: wait for the next one
        continue;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && !have_frame_ && !removed_ &&
          !cancel_requested_) {
        throw DeviceError(DeviceFault::Timeout, "UVC camera " + id_ + ": no valid frame within " +
                                                    std::to_string(timeout.count()) + " ms");
      }
    }
  }

  void cancel() override {
    {
      std::lock_guard lock(mutex_);
      cancel_requested_ = true;
    }
    cv_.notify_all();
  }

  void set_illumination(int wavelength_nm, int level) override {
    check_alive();
    if (layout_.xu_unit == 0) {
      throw DeviceError(DeviceFault::Unsupported,
                        "UVC camera " + id_ + ": no illumination control (no palmvein extension unit)");
    }
    const auto& banks = caps_.wavelengths_nm;
    if (std::find(banks.begin(), banks.end(), wavelength_nm) == banks.end()) {
      throw InvalidArgument("UVC camera " + id_ + ": no " + std::to_string(wavelength_nm) + " nm illumination bank");
    }
    if (level < 0 || level >= caps_.illumination_levels) {
      throw InvalidArgument("UVC camera " + id_ + ": illumination level outside 0.." +
                            std::to_string(caps_.illumination_levels - 1));
    }
    std::uint8_t data[4] = {static_cast<std::uint8_t>(wavelength_nm), static_cast<std::uint8_t>(wavelength_nm >> 8),
                            static_cast<std::uint8_t>(level), 0};
    unit_request(kSetCur, layout_.xu_unit, kUvcXuIllumination, data, sizeof data, "illumination");
  }

  void set_exposure(std::uint32_t exposure_us, float gain) override {
    check_alive();
    if (!(layout_.terminal_controls & kCtBitExposureAbsolute)) {
      throw DeviceError(DeviceFault::Unsupported, "UVC camera " + id_ + ": no absolute exposure control");
    }
    if (exposure_us < caps_.exposure_min_us || exposure_us > caps_.exposure_max_us) {
      throw InvalidArgument("UVC camera " + id_ + ": exposure " + std::to_string(exposure_us) + " us outside " +
                            std::to_string(caps_.exposure_min_us) + ".." + std::to_string(caps_.exposure_max_us));
    }
    if (!(gain >= 0.0f) || gain > 655.0f) throw InvalidArgument("UVC camera " + id_ + ": gain must lie in [0, 655]");
    if (layout_.terminal_controls & kCtBitAeMode) {
      std::uint8_t mode = kAeModeManual;  // absolute exposure is only writable in manual mode
      unit_request(kSetCur, layout_.terminal_id, kCtAeMode, &mode, 1, "auto-exposure mode");
    }
    const std::uint32_t units = (exposure_us + 50) / 100;  // UVC exposure time is in 100 us units
    std::uint8_t e[4];
    put32(e, units);
    unit_request(kSetCur, layout_.terminal_id, kCtExposureAbsolute, e, sizeof e, "exposure");
    last_exposure_us_ = units * 100;
    if (layout_.gain_unit != 0) {
      // UVC gain is in device units; palmvein sends gain x 100 (1.0 -> 100), the common convention.
      const auto g = static_cast<std::uint16_t>(std::lround(gain * 100.0f));
      std::uint8_t d[2] = {static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(g >> 8)};
      unit_request(kSetCur, layout_.gain_unit, kPuGain, d, sizeof d, "gain");
      last_gain_ = g / 100.0f;
    }
  }

 private:
  struct Slot {
    UvcSensor* owner = nullptr;
    libusb_transfer* transfer = nullptr;
    std::vector<std::uint8_t> buffer;
    bool in_flight = false;  // guarded by mutex_
  };

  void check_alive() const {
    if (removed_) throw DeviceError(DeviceFault::Removed, "UVC camera " + id_ + ": device was unplugged; reopen it");
  }

  void find_interfaces() {
    libusb_config_descriptor* config = nullptr;
    if (int r = libusb_get_active_config_descriptor(usb_device_, &config); r != 0) {
      usb::throw_error(r, "UVC camera " + id_ + ": configuration descriptor");
    }
    bool have_control = false, have_stream = false;
    for (int i = 0; i < config->bNumInterfaces; ++i) {
      const libusb_interface_descriptor& alt = config->interface[i].altsetting[0];
      if (alt.bInterfaceClass != kClassVideo) continue;
      if (alt.bInterfaceSubClass == kSubclassControl && !have_control) {
        control_interface_ = alt.bInterfaceNumber;
        have_control = true;
      } else if (alt.bInterfaceSubClass == kSubclassStreaming && !have_stream) {
        stream_interface_ = alt.bInterfaceNumber;  // the first VideoStreaming interface
        have_stream = true;
      }
    }
    libusb_free_config_descriptor(config);
    if (!have_control || !have_stream) {
      throw DeviceError(DeviceFault::Protocol, "UVC camera " + id_ + ": no VideoControl/VideoStreaming interface");
    }
  }

  void read_control_ranges() {
    if (layout_.terminal_controls & kCtBitExposureAbsolute) {
      std::uint8_t lo[4] = {}, hi[4] = {};
      unit_request(kGetMin, layout_.terminal_id, kCtExposureAbsolute, lo, 4, "exposure range");
      unit_request(kGetMax, layout_.terminal_id, kCtExposureAbsolute, hi, 4, "exposure range");
      caps_.exposure_min_us = get32(lo) * 100;
      caps_.exposure_max_us = get32(hi) * 100;
    }
    if (layout_.xu_unit != 0) {
      std::uint8_t banks[10] = {};
      unit_request(kGetCur, layout_.xu_unit, kUvcXuBanks, banks, sizeof banks, "illumination banks");
      caps_.illumination_levels = banks[1];
      for (int i = 0; i < std::min<int>(banks[0], 4); ++i) {
        caps_.wavelengths_nm.push_back(banks[2 + 2 * i] | (banks[3 + 2 * i] << 8));
      }
    }
  }

  // A class-specific request with a timeout (UVC 1.5, 4.2: wIndex = entity << 8 | interface).
  void request(std::uint8_t code, std::uint16_t value, std::uint16_t index, std::uint8_t* data, std::uint16_t size,
               const std::string& what) {
    const std::uint8_t type = code == kSetCur ? 0x21 : 0xa1;
    const int r = libusb_control_transfer(usb_.get(), type, code, value, index, data, size,
                                          static_cast<unsigned>(options_.control_timeout.count()));
    if (r < 0) {
      if (r == LIBUSB_ERROR_NO_DEVICE) removed_ = true;
      usb::throw_error(r, "UVC camera " + id_ + ": " + what);
    }
    if (r != size) throw DeviceError(DeviceFault::Protocol, "UVC camera " + id_ + ": " + what + ": short reply");
  }
  void unit_request(std::uint8_t code, std::uint8_t unit, std::uint8_t selector, std::uint8_t* data, std::uint16_t size,
                    const std::string& what) {
    request(code, static_cast<std::uint16_t>(selector << 8), static_cast<std::uint16_t>(unit << 8 | control_interface_),
            data, size, what);
  }

  // Probe and commit (UVC 1.5, 4.3.1.1.1): 26 bytes for UVC 1.0, 34 from UVC 1.1 on.
  void negotiate() {
    const std::uint16_t size = layout_.bcd_uvc >= 0x0110 ? 34 : 26;
    std::uint8_t block[34] = {};
    block[0] = 1;  // bmHint: keep dwFrameInterval
    block[2] = layout_.format_index;
    block[3] = layout_.frame_index;
    put32(&block[4], layout_.frame_interval);
    const auto vs = static_cast<std::uint16_t>(stream_interface_);
    request(kSetCur, kVsProbe << 8, vs, block, size, "probe");
    request(kGetCur, kVsProbe << 8, vs, block, size, "probe");
    if (block[2] != layout_.format_index || block[3] != layout_.frame_index) {
      throw DeviceError(DeviceFault::Protocol, "UVC camera " + id_ + ": refused format " +
                                                   std::to_string(layout_.format_index) + " frame " +
                                                   std::to_string(layout_.frame_index));
    }
    request(kSetCur, kVsCommit << 8, vs, block, size, "commit");
    max_frame_bytes_ = get32(&block[18]) ? get32(&block[18]) : layout_.max_frame_bytes;
    max_payload_ = std::max<std::uint32_t>(get32(&block[22]), 64);
  }

  // Picks the endpoint (for isochronous streaming the first alternate setting whose packets hold a
  // whole payload, UVC 1.5, 2.4.3) and submits the transfers.
  void start_transfers() {
    libusb_config_descriptor* config = nullptr;
    if (int r = libusb_get_active_config_descriptor(usb_device_, &config); r != 0) {
      usb::throw_error(r, "UVC camera " + id_ + ": configuration descriptor");
    }
    std::unique_ptr<libusb_config_descriptor, void (*)(libusb_config_descriptor*)> guard(config,
                                                                                        libusb_free_config_descriptor);
    const libusb_interface* vs = nullptr;
    for (int i = 0; i < config->bNumInterfaces; ++i) {
      if (config->interface[i].altsetting[0].bInterfaceNumber == stream_interface_) vs = &config->interface[i];
    }
    isochronous_ = vs->num_altsetting > 1;
    std::uint8_t endpoint = 0;
    std::size_t packet_size = 0;
    int alt_setting = 0;
    for (int a = 0; a < vs->num_altsetting && endpoint == 0; ++a) {
      const libusb_interface_descriptor& alt = vs->altsetting[a];
      for (int e = 0; e < alt.bNumEndpoints && endpoint == 0; ++e) {
        const libusb_endpoint_descriptor& ep = alt.endpoint[e];
        const int type = ep.bmAttributes & LIBUSB_TRANSFER_TYPE_MASK;
        if (!(ep.bEndpointAddress & LIBUSB_ENDPOINT_IN)) continue;
        if (!isochronous_ && type == LIBUSB_TRANSFER_TYPE_BULK) {
          endpoint = ep.bEndpointAddress;
        } else if (isochronous_ && type == LIBUSB_TRANSFER_TYPE_ISOCHRONOUS) {
          // wMaxPacketSize: bits 0-10 size, bits 11-12 additional transactions per microframe.
          const std::size_t bytes = (ep.wMaxPacketSize & 0x7ffu) * (((ep.wMaxPacketSize >> 11) & 3u) + 1);
          if (bytes >= max_payload_) {
            endpoint = ep.bEndpointAddress;
            packet_size = bytes;
            alt_setting = alt.bAlternateSetting;
          }
        }
      }
    }
    if (endpoint == 0) {
      throw DeviceError(DeviceFault::Protocol, "UVC camera " + id_ + ": no " + (isochronous_ ? "isochronous" : "bulk") +
                                                   " endpoint for " + std::to_string(max_payload_) + "-byte payloads");
    }
    if (isochronous_) {
      if (int r = libusb_set_interface_alt_setting(usb_.get(), stream_interface_, alt_setting); r != 0) {
        usb::throw_error(r, "UVC camera " + id_ + ": cannot select alternate setting " + std::to_string(alt_setting));
      }
    }
    const int packets = isochronous_ ? static_cast<int>(std::clamp<std::size_t>(
                                           (max_frame_bytes_ + packet_size - 1) / packet_size, 1, kMaxIsoPackets))
                                     : 0;
    const std::size_t buffer = isochronous_ ? packet_size * static_cast<std::size_t>(packets) : max_payload_;
    std::lock_guard lock(mutex_);
    assembling_ = RawFrame{};
    fid_ = -1;
    frames_assembled_ = 0;
    have_frame_ = false;
    cancel_requested_ = false;
    running_ = true;
    for (int i = 0; i < kStreamTransfers; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->owner = this;
      slot->buffer.resize(buffer);
      slot->transfer = libusb_alloc_transfer(packets);
      if (!slot->transfer) throw DeviceError(DeviceFault::Io, "UVC camera " + id_ + ": out of memory");
      if (isochronous_) {
        libusb_fill_iso_transfer(slot->transfer, usb_.get(), endpoint, slot->buffer.data(), static_cast<int>(buffer),
                                 packets, &UvcSensor::on_transfer, slot.get(), kStreamTransferTimeoutMs);
        libusb_set_iso_packet_lengths(slot->transfer, static_cast<unsigned>(packet_size));
      } else {
        libusb_fill_bulk_transfer(slot->transfer, usb_.get(), endpoint, slot->buffer.data(), static_cast<int>(buffer),
                                  &UvcSensor::on_transfer, slot.get(), kStreamTransferTimeoutMs);
      }
      slots_.push_back(std::move(slot));
      if (int r = libusb_submit_transfer(slots_.back()->transfer); r != 0) {
        running_ = false;
        usb::throw_error(r, "UVC camera " + id_ + ": cannot submit a streaming transfer");
      }
      slots_.back()->in_flight = true;
    }
  }

  // Cancels the transfers, waits (bounded) until libusb handed each back, frees them and releases
  // the streaming interface. Safe on a removed camera and when nothing was started.
  void stop_streaming() noexcept {
    streaming_ = false;
    {
      std::unique_lock lock(mutex_);
      running_ = false;
      for (auto& slot : slots_) {
        if (slot->in_flight) libusb_cancel_transfer(slot->transfer);
      }
      cv_.wait_for(lock, 2s, [&] {
        return std::none_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->in_flight; });
      });
      for (auto& slot : slots_) {
        if (slot->in_flight) {
          (void)slot.release();  // libusb still owns it (only a libusb bug gets here): leak, never free under it
        } else {
          libusb_free_transfer(slot->transfer);
        }
      }
      slots_.clear();
    }
    // Back to the zero-bandwidth setting, but never on a removed camera (libusb 1.0.26 issue #1199).
    if (isochronous_ && !removed_) libusb_set_interface_alt_setting(usb_.get(), stream_interface_, 0);
    isochronous_ = false;
    stream_claim_ = usb::ClaimedInterface();
  }

  void run_events() {
    while (!stop_events_) {
      timeval tv{0, 100000};
      libusb_handle_events_timeout_completed(ctx_.get(), &tv, nullptr);
    }
  }

  static int LIBUSB_CALL on_hotplug(libusb_context*, libusb_device* dev, libusb_hotplug_event, void* self) {
    auto* s = static_cast<UvcSensor*>(self);
    if (dev == s->usb_device_) {
      {
        std::lock_guard lock(s->mutex_);
        s->removed_ = true;
      }
      s->cv_.notify_all();
    }
    return 0;  // stay registered
  }

  static void LIBUSB_CALL on_transfer(libusb_transfer* transfer) {
    auto* slot = static_cast<Slot*>(transfer->user_data);
    UvcSensor& self = *slot->owner;
    {
      std::lock_guard lock(self.mutex_);
      slot->in_flight = false;
      switch (transfer->status) {
        case LIBUSB_TRANSFER_COMPLETED:
          if (transfer->num_iso_packets == 0) {
            self.process_payload(transfer->buffer, static_cast<std::size_t>(transfer->actual_length));
          } else {
            for (int i = 0; i < transfer->num_iso_packets; ++i) {
              const libusb_iso_packet_descriptor& p = transfer->iso_packet_desc[i];
              if (p.status != LIBUSB_TRANSFER_COMPLETED) {
                self.assembling_.ok = false;  // a lost packet spoils the frame
                continue;
              }
              self.process_payload(libusb_get_iso_packet_buffer_simple(transfer, static_cast<unsigned>(i)),
                                   p.actual_length);
            }
          }
          break;
        case LIBUSB_TRANSFER_NO_DEVICE: self.removed_ = true; break;
        case LIBUSB_TRANSFER_CANCELLED: break;
        case LIBUSB_TRANSFER_TIMED_OUT: break;  // no data for a while; resubmit
        default: self.assembling_.ok = false; break;  // stall, overflow, error: data lost
      }
      if (self.running_ && !self.removed_ && transfer->status != LIBUSB_TRANSFER_CANCELLED) {
        const int r = libusb_submit_transfer(transfer);
        if (r == 0) {
          slot->in_flight = true;
        } else if (r == LIBUSB_ERROR_NO_DEVICE) {
          self.removed_ = true;
        }
      }
    }
    self.cv_.notify_all();
  }

  // One UVC payload: header (bHeaderLength; bmHeaderInfo: FID bit 0, EOF bit 1, ERR bit 6) and data
  // (UVC 1.5, 2.4.3.3). A frame ends at EOF or when FID toggles. Called with mutex_ held.
  void process_payload(const std::uint8_t* p, std::size_t length) {
    if (length == 0) return;  // an empty isochronous packet
    const std::size_t header = p[0];
    if (header < 2 || header > length) {
      assembling_.ok = false;
      return;
    }
    const std::uint8_t info = p[1];
    const int fid = info & 0x01;
    if (fid != fid_ && !assembling_.bytes.empty()) publish();  // the camera skipped EOF
    fid_ = fid;
    if (info & 0x40) assembling_.ok = false;
    if (assembling_.bytes.size() + (length - header) > max_frame_bytes_) {
      assembling_.ok = false;
    } else {
      assembling_.bytes.insert(assembling_.bytes.end(), p + header, p + length);
    }
    if (info & 0x02) publish();
  }

  void publish() {
    if (!assembling_.bytes.empty() || !assembling_.ok) {
      assembling_.counter = frames_assembled_++;
      if (assembling_.ok) {
        latest_ = std::move(assembling_);
        have_frame_ = true;
      } else {
        ++dropped_frames_;
      }
    }
    assembling_ = RawFrame{};
  }

  std::optional<Frame> convert(const RawFrame& raw) const {
    Frame frame;
    const auto w = static_cast<std::size_t>(layout_.width), h = static_cast<std::size_t>(layout_.height);
    switch (layout_.kind) {
      case Kind::Gray8:
        if (raw.bytes.size() != w * h) return std::nullopt;  // short frame
        frame.image = Image::from_gray8(layout_.width, layout_.height, raw.bytes.data(), w);
        break;
      case Kind::Yuyv: {
        if (raw.bytes.size() != 2 * w * h) return std::nullopt;
        Image img(layout_.width, layout_.height);
        for (std::size_t i = 0; i < w * h; ++i) img.data()[i] = raw.bytes[2 * i];  // Y0 U Y1 V: keep luma
        frame.image = std::move(img);
        break;
      }
      case Kind::Mjpeg:
        try {
          frame.image = decode_image(raw.bytes).to_gray8();  // OpenCV's decoder
        } catch (const FormatError&) {
          return std::nullopt;  // a corrupt JPEG is dropped like a corrupt frame
        }
        if (frame.image.width() != layout_.width || frame.image.height() != layout_.height) return std::nullopt;
        break;
    }
    frame.timestamp = Clock::now();
    frame.counter = raw.counter;
    frame.exposure_us = last_exposure_us_;
    frame.gain = last_gain_;
    return frame;
  }

  UvcOptions options_;
  // Destruction order (reverse of declaration) matters: claims before the handle, handle before
  // the context. The destructor stops the event thread before the members go.
  usb::Context ctx_;
  libusb_device* usb_device_ = nullptr;  // referenced; unref'd in the destructor
  usb::Handle usb_;
  usb::ClaimedInterface control_claim_;
  usb::ClaimedInterface stream_claim_;
  libusb_hotplug_callback_handle hotplug_ = 0;
  std::thread events_;
  std::atomic<bool> stop_events_{false};
  std::string id_;
  CameraLayout layout_;
  SensorInfo info_;
  SensorCapabilities caps_;
  int control_interface_ = 0;
  int stream_interface_ = 0;
  bool isochronous_ = false;
  std::uint32_t max_frame_bytes_ = 0;
  std::uint32_t max_payload_ = 0;
  std::uint32_t last_exposure_us_ = 0;  // as last set: UVC payloads carry no exposure metadata here
  float last_gain_ = 1;
  bool streaming_ = false;

  std::mutex mutex_;  // guards what follows; shared with the event thread's callbacks
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Slot>> slots_;
  RawFrame assembling_;
  RawFrame latest_;
  bool have_frame_ = false;
  bool running_ = false;
  bool cancel_requested_ = false;
  std::atomic<bool> removed_{false};  // also read without the mutex by check_alive()
  int fid_ = -1;
  std::uint64_t frames_assembled_ = 0;
  std::uint64_t dropped_frames_ = 0;
};

}  // namespace

void UvcOptions::check() const {
  if (format != "auto" && format != "gray8" && format != "yuyv" && format != "mjpeg") {
    throw InvalidArgument("UVC format '" + format + "': expected auto, gray8, yuyv or mjpeg");
  }
  if (width < 0 || height < 0 || (width == 0) != (height == 0)) {
    throw InvalidArgument("UVC frame size: give both width and height, or neither");
  }
  if (fps < 0) throw InvalidArgument("UVC fps must not be negative");
  if (control_timeout <= 0ms) throw InvalidArgument("UVC control timeout must be positive");
}

std::unique_ptr<Sensor> open_uvc(std::string_view path, std::string_view uri, const UvcOptions& options) {
  options.check();
  const usb::Selector want = usb::parse_selector(path, uri);
  return std::make_unique<UvcSensor>(usb::make_context(), want, uri, options);
}

std::unique_ptr<Sensor> open_uvc(const SensorUri& uri) {
  uri.reject_unknown_keys({"format", "width", "height", "fps"});
  UvcOptions options;
  if (auto f = uri.get("format")) options.format = *f;
  options.width = static_cast<int>(uri.get_int("width", 0, 0, 65535));
  options.height = static_cast<int>(uri.get_int("height", 0, 0, 65535));
  options.fps = static_cast<int>(uri.get_int("fps", 0, 0, 1000));
  return open_uvc(uri.path, uri.text, options);
}

std::vector<SensorInfo> enumerate_uvc() {
  std::vector<SensorInfo> out;
  usb::Context ctx = usb::make_context();
  for (auto& ref : usb::list_devices(ctx.get())) {
    libusb_device_descriptor desc{};
    if (libusb_get_device_descriptor(ref.dev.get(), &desc) != 0) continue;
    const KnownUsbId* known = find_usb_id(desc.idVendor, desc.idProduct);
    if (!known || known->driver != UsbDriver::Uvc) continue;
    SensorInfo info;
    info.driver = "uvc";
    info.name = std::string(known->name);
    libusb_device_handle* raw = nullptr;
    if (libusb_open(ref.dev.get(), &raw) == 0) {
      usb::Handle handle(raw);
      info.serial = usb::read_string(handle.get(), desc.iSerialNumber);
      if (std::string product = usb::read_string(handle.get(), desc.iProduct); !product.empty()) info.name = product;
    } else {
      info.name += " (no permission: " + std::string(kUdevRulesHint) + ")";
    }
    info.uri = "uvc:" + usb::format_id(desc.idVendor, desc.idProduct) + (info.serial.empty() ? "" : ":" + info.serial);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace palmvein::drivers
