// SPDX-License-Identifier: Apache-2.0
#include "myid_usb/usb_hotplug.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "myid_usb/libusb_raii.hpp"
#include "usb_ids.hpp"

namespace palmvein::drivers {

struct UsbHotplugMonitor::Impl {
  Callback on_event;
  usb::Context ctx = usb::make_context();
  libusb_hotplug_callback_handle handle = 0;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards pending (filled by libusb's callback, drained by the thread)
  std::vector<std::pair<libusb_device*, libusb_hotplug_event>> pending;
  std::map<libusb_device*, SensorInfo> present;  // thread only; each key holds a reference

  // libusb forbids blocking I/O in its callback, so the event is only queued here.
  static int LIBUSB_CALL on_hotplug(libusb_context*, libusb_device* dev, libusb_hotplug_event event, void* self) {
    auto* impl = static_cast<Impl*>(self);
    std::lock_guard lock(impl->mutex);
    impl->pending.emplace_back(libusb_ref_device(dev), event);
    return 0;
  }

  // The SensorInfo of a known device (opens it for the serial), or nothing for other devices.
  static std::optional<SensorInfo> describe(libusb_device* dev) {
    libusb_device_descriptor desc{};
    if (libusb_get_device_descriptor(dev, &desc) != 0) return std::nullopt;
    const KnownUsbId* known = find_usb_id(desc.idVendor, desc.idProduct);
    if (!known) return std::nullopt;
    SensorInfo info;
    info.driver = std::string(to_string(known->driver));
    info.name = std::string(known->name);
    libusb_device_handle* raw = nullptr;
    if (libusb_open(dev, &raw) == 0) {
      usb::Handle handle(raw);
      info.serial = usb::read_string(handle.get(), desc.iSerialNumber);
      if (std::string product = usb::read_string(handle.get(), desc.iProduct); !product.empty()) info.name = product;
    }
    info.uri = std::string(known->driver == UsbDriver::Uvc ? "uvc:" : "usb:") +
               usb::format_id(desc.idVendor, desc.idProduct) + (info.serial.empty() ? "" : ":" + info.serial);
    return info;
  }

  void drain() {
    std::vector<std::pair<libusb_device*, libusb_hotplug_event>> events;
    {
      std::lock_guard lock(mutex);
      events.swap(pending);
    }
    for (auto [dev, event] : events) {
      if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED && !present.count(dev)) {
        if (auto info = describe(dev)) {
          present.emplace(libusb_ref_device(dev), *info);
          on_event(HotplugEvent::Arrived, *info);
        }
      } else if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT) {
        if (auto it = present.find(dev); it != present.end()) {
          const SensorInfo info = it->second;
          libusb_unref_device(it->first);
          present.erase(it);
          on_event(HotplugEvent::Left, info);
        }
      }
      libusb_unref_device(dev);
    }
  }

  void run() {
    while (!stop) {
      timeval tv{0, 100000};
      libusb_handle_events_timeout_completed(ctx.get(), &tv, nullptr);
      drain();
    }
  }
};

UsbHotplugMonitor::UsbHotplugMonitor(Callback on_event) : impl_(std::make_unique<Impl>()) {
  if (!on_event) throw InvalidArgument("UsbHotplugMonitor needs a callback");
  if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
    throw DeviceError(DeviceFault::Unsupported, "libusb has no hotplug support here; poll enumerate_sensors()");
  }
  impl_->on_event = std::move(on_event);
  const int r = libusb_hotplug_register_callback(
      impl_->ctx.get(), LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, LIBUSB_HOTPLUG_ENUMERATE,
      LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, &Impl::on_hotplug, impl_.get(),
      &impl_->handle);
  if (r != 0) usb::throw_error(r, "libusb_hotplug_register_callback");
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

UsbHotplugMonitor::~UsbHotplugMonitor() {
  impl_->stop = true;
  libusb_interrupt_event_handler(impl_->ctx.get());
  impl_->thread.join();
  libusb_hotplug_deregister_callback(impl_->ctx.get(), impl_->handle);
  for (auto& [dev, event] : impl_->pending) libusb_unref_device(dev);
  for (auto& [dev, info] : impl_->present) libusb_unref_device(dev);
}

}  // namespace palmvein::drivers
