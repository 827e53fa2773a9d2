// SPDX-License-Identifier: Apache-2.0
// The sensor SDK: enumerate, open by URI, stream frames, control illumination and exposure.
// Errors: DeviceError (busy, protocol, timeout, removed, permission). What the user can fix (no palm,
// too close, too dark...) is not an error but a result: RoiResult's RoiFailure and its guidance()
// (roi.hpp). Never a hang: every blocking call takes a timeout.
// Thread-safety: a Sensor is used by one thread at a time, except cancel(), which any thread may call.
// enumerate_sensors() and open_sensor() may be called from any thread.
// URIs, query keys and drivers are documented in docs/sensors.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/error.hpp"
#include "palmvein/image.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Device faults. The sensor is unusable until reopened (except Timeout, which may be retried).
enum class DeviceFault : std::uint8_t { NotFound, Busy, Permission, Protocol, Timeout, Removed, Io, Cancelled, Unsupported };
// The fault's name, e.g. "timeout".
PALMVEIN_API std::string_view to_string(DeviceFault fault) noexcept;

// A device fault: what went wrong (fault()) and a message naming the sensor.
class PALMVEIN_API DeviceError : public Error {
 public:
  // The fault and a message naming the sensor and what failed.
  DeviceError(DeviceFault fault, const std::string& message) : Error(message), fault_(fault) {}
  // What went wrong.
  DeviceFault fault() const noexcept { return fault_; }

 private:
  DeviceFault fault_;
};

// What a sensor can do: frame size and depth, NIR banks, illumination and exposure ranges, speed.
struct SensorCapabilities {
  int width = 0;                              // frame width in pixels
  int height = 0;                             // frame height in pixels
  int bit_depth = 8;                          // 8..16
  std::vector<int> wavelengths_nm;            // NIR banks, e.g. {850, 940}
  int illumination_levels = 0;                // 0 = fixed illumination; else levels 0..N-1 per bank
  std::uint32_t exposure_min_us = 0;          // shortest exposure (0 = no exposure control)
  std::uint32_t exposure_max_us = 0;          // longest exposure
  double max_fps = 0;                         // highest frame rate
};

// Which sensor this is: the URI that opens it, its driver, model and identity.
struct SensorInfo {
  std::string uri;           // e.g. "virtual:", "usb:1209:7a1e:SN0001", "uvc:0c45:6366"
  std::string driver;        // "virtual", "file", "myid-usb", "uvc"
  std::string name;          // human-readable model name
  std::string serial;        // may be empty
  std::string firmware;      // may be empty
};

// One frame from a sensor and the settings it was taken under.
struct Frame {
  Image image;                        // 8- or 16-bit grey
  std::chrono::steady_clock::time_point timestamp{};  // when the frame arrived
  std::uint64_t counter = 0;          // device frame counter
  std::uint32_t exposure_us = 0;      // exposure the frame was taken with
  float gain = 1;                     // analogue gain the frame was taken with
  int illumination_level = 0;         // level of the lit NIR bank
  int wavelength_nm = 0;              // wavelength of the lit NIR bank (0 = unknown)
};

// An opened sensor (see the file's notes on errors and threads); open_sensor() makes one, and an
// out-of-tree driver implements one (docs/writing-a-driver.md).
class PALMVEIN_API Sensor {
 public:
  virtual ~Sensor() = default;
  // Which sensor this is.
  virtual SensorInfo info() const = 0;
  // What it can do.
  virtual SensorCapabilities capabilities() const = 0;

  virtual void start() = 0;  // begin streaming
  virtual void stop() = 0;   // end streaming; safe to call twice
  // Blocks until the next frame or the timeout. Throws DeviceError (Timeout, Removed, Cancelled...).
  // grab() on a sensor that is not streaming throws DeviceError(Io).
  virtual Frame grab(std::chrono::milliseconds timeout) = 0;
  // Wakes a blocked grab() with DeviceFault::Cancelled. Callable from any thread. A cancel() that
  // arrives while no grab() waits cancels the next grab() (so a cancel racing a grab is never lost).
  virtual void cancel() = 0;

  // Illumination per NIR bank and exposure. Throw DeviceError(Unsupported) where the sensor has none.
  virtual void set_illumination(int wavelength_nm, int level) = 0;
  // Exposure time and analogue gain; DeviceError(Unsupported) where the sensor has no such control.
  virtual void set_exposure(std::uint32_t exposure_us, float gain) = 0;
};

// Callback streaming: a thread that calls sensor.grab() in a loop and hands each frame to on_frame.
// The loop ends at the first DeviceError other than Timeout (which is retried), reported once to
// on_error (Cancelled is not reported when stop() ended the stream). The sensor must be started and
// must not be used by other threads while the stream runs (cancel() excepted). Drivers with a native
// asynchronous path may use it behind the same interface. Callbacks run on the stream's thread.
// Thread-safety: stop() and the destructor may be called from any thread except the callbacks'.
using FrameCallback = std::function<void(Frame&& frame)>;
// Called once with the error that ended a FrameStream.
using StreamErrorCallback = std::function<void(const DeviceError& error)>;

// Frames of a started sensor handed to a callback on the stream's own thread (see above).
class PALMVEIN_API FrameStream {
 public:
  // Starts the thread; on_frame gets each frame, on_error the error that ends the stream.
  FrameStream(Sensor& sensor, FrameCallback on_frame, StreamErrorCallback on_error = {},
              std::chrono::milliseconds grab_timeout = std::chrono::milliseconds(1000));
  ~FrameStream();  // stop()
  FrameStream(const FrameStream&) = delete;
  FrameStream& operator=(const FrameStream&) = delete;
  // Cancels the pending grab and joins the thread. Safe to call twice.
  void stop();
  // Whether the stream's thread still grabs (false after stop() or an error).
  bool running() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Hotplug: on_event is called on a background thread when a sensor appears or disappears, keyed by
// SensorInfo::uri. The generic implementation polls enumerate_sensors() every `poll_interval`; the
// sensors present when the watch starts are reported as Arrived first. USB drivers may add native
// (libusb hotplug) notification behind the same interface.
// Thread-safety: construct and destroy from one thread; callbacks must not destroy the watch.
enum class HotplugEvent : std::uint8_t { Arrived, Left };
// Called on the watch's thread when a sensor arrives or leaves.
using HotplugCallback = std::function<void(HotplugEvent event, const SensorInfo& sensor)>;

// Reports sensors that appear and disappear (see above) until destroyed.
class PALMVEIN_API HotplugWatch {
 public:
  // Starts watching; on_event gets the sensors present now as Arrived, then each change.
  explicit HotplugWatch(HotplugCallback on_event,
                        std::chrono::milliseconds poll_interval = std::chrono::milliseconds(500));
  ~HotplugWatch();
  HotplugWatch(const HotplugWatch&) = delete;
  HotplugWatch& operator=(const HotplugWatch&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every sensor that can be opened now (the virtual sensor is always listed), then those of the
// registered out-of-tree drivers.
PALMVEIN_API std::vector<SensorInfo> enumerate_sensors();
// Opens "virtual:[?query]", "file:DIR|MANIFEST.csv", "usb:VID:PID[:SERIAL]" or "uvc:VID:PID[:SERIAL]",
// or a URI of a scheme registered with register_sensor_driver().
// Throws DeviceError(NotFound/Busy/Permission) or InvalidArgument for a malformed URI.
PALMVEIN_API std::unique_ptr<Sensor> open_sensor(std::string_view uri);

// udev rules (the text of one file, 70-palmvein.rules, installed with palmvein) that give the seat
// user (uaccess) and the `plugdev` group access to every USB sensor model palmvein knows, so no one
// runs a capture as root.
PALMVEIN_API std::string udev_rules();
// How many USB sensor models (vendor:product ids) udev_rules() covers.
PALMVEIN_API std::size_t known_usb_sensor_count() noexcept;

// Out-of-tree drivers (docs/writing-a-driver.md): an application adds its own URI scheme to
// open_sensor() and enumerate_sensors(). The factory receives the whole URI as given (scheme
// included) and returns an opened, not yet started sensor, or throws DeviceError / InvalidArgument
// like the built-in drivers. The enumerator, where given, lists the sensors of the driver that can be
// opened now; a DeviceError or InvalidArgument from it lists nothing for that driver.
// Thread-safety: registration, unregistration, open_sensor() and enumerate_sensors() may run on any
// threads at once; the factory and the enumerator are called without the registry's lock held, and
// may be called concurrently from several threads.
using SensorFactory = std::function<std::unique_ptr<Sensor>(std::string_view uri)>;
// Lists the sensors of an out-of-tree driver that can be opened now.
using SensorEnumerator = std::function<std::vector<SensorInfo>()>;

// The handle of a registered driver: the scheme is served until the handle is destroyed or reset()
// (RAII; movable, not copyable). A call of open_sensor() that already holds the factory finishes.
class PALMVEIN_API SensorDriverRegistration {
 public:
  SensorDriverRegistration() noexcept = default;  // registers nothing
  ~SensorDriverRegistration();                     // reset()
  // Takes over other's registration; other then registers nothing.
  SensorDriverRegistration(SensorDriverRegistration&& other) noexcept;
  // Unregisters this handle's scheme, then takes over other's registration.
  SensorDriverRegistration& operator=(SensorDriverRegistration&& other) noexcept;
  SensorDriverRegistration(const SensorDriverRegistration&) = delete;
  SensorDriverRegistration& operator=(const SensorDriverRegistration&) = delete;

  // The registered scheme without ':' ("example"), empty when the handle registers nothing.
  const std::string& scheme() const noexcept { return scheme_; }
  // Unregisters the scheme now; the handle then registers nothing. Safe to call twice.
  void reset() noexcept;

 private:
  friend SensorDriverRegistration register_sensor_driver(std::string_view, SensorFactory, SensorEnumerator);
  SensorDriverRegistration(std::string scheme, std::uint64_t id) noexcept;
  std::string scheme_;
  std::uint64_t id_ = 0;
};

// Registers `open` for URIs "SCHEME:..."; `scheme` is given without or with its ':' ("example" or
// "example:"), lower-case letters, digits and '-', starting with a letter (the URI syntax
// open_sensor() parses). Throws InvalidArgument for a malformed scheme, an empty factory, or a scheme
// that a built-in or another registered driver serves.
[[nodiscard]] PALMVEIN_API SensorDriverRegistration register_sensor_driver(std::string_view scheme,
                                                                          SensorFactory open,
                                                                          SensorEnumerator enumerate = {});

PALMVEIN_NAMESPACE_END
