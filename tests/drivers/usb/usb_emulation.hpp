// SPDX-License-Identifier: Apache-2.0
// In-process USB device emulation for driver tests: an umockdev testbed whose /dev/bus/usb node is
// answered by a C++ firmware model, so the real libusb (and libuvc) code runs unchanged.
// URBs are queued on USBDEVFS_SUBMITURB, completed from the model on REAPURB(NDELAY), marked on
// DISCARDURB; claims are tracked per open file so a second handle gets EBUSY; unplug() fails pending
// URBs with ESHUTDOWN and every later ioctl with ENODEV, like the kernel does.
// Thread-safety: model callbacks run on umockdev's worker thread with FirmwareModel::mutex held;
// a test changes model state only while holding that mutex (FirmwareModel::lock()).
#pragma once

#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

typedef struct _UMockdevTestbed UMockdevTestbed;

namespace palmvein::testing {

struct ControlRequest {
  std::uint8_t request_type = 0;
  std::uint8_t request = 0;
  std::uint16_t value = 0;
  std::uint16_t index = 0;
  std::uint16_t length = 0;
  std::vector<std::uint8_t> data_out;  // host-to-device data stage
};

struct UrbReply {
  int status = 0;                  // 0, or a negative errno: -EPIPE is a STALL
  std::vector<std::uint8_t> data;  // device-to-host bytes (truncated to the URB's buffer)
};

class FirmwareModel {
 public:
  virtual ~FirmwareModel() = default;
  // Every call below happens with `mutex` held.
  virtual UrbReply control(const ControlRequest& request) = 0;
  // A bulk transfer on `endpoint`; nullopt keeps the URB pending (the host's timeout fires).
  virtual std::optional<UrbReply> bulk(std::uint8_t endpoint, std::size_t capacity,
                                       std::span<const std::uint8_t> data_out) {
    (void)endpoint, (void)capacity, (void)data_out;
    return std::nullopt;
  }
  // An isochronous IN URB: fill the packets (actual_length, status) and their bytes in `buffer`
  // (packet i starts at the sum of the previous packets' lengths). false keeps it pending.
  virtual bool iso_in(std::uint8_t endpoint, std::span<usbdevfs_iso_packet_desc> packets, std::uint8_t* buffer) {
    (void)endpoint, (void)packets, (void)buffer;
    return false;
  }
  // The host selected alternate setting `alt` of `interface`.
  virtual void set_interface(int interface, int alt) { (void)interface, (void)alt; }

  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mutex); }
  std::mutex mutex;
};

struct DeviceSpec {
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  std::vector<std::uint8_t> descriptors;    // device descriptor followed by the whole configuration
  std::vector<std::string> strings;         // string descriptor 1, 2, ... (ASCII)
  std::string serial;                       // sysfs `serial` attribute
};

class EmulatedDevice;

// One umockdev testbed. Create it before any libusb context.
class UsbTestbed {
 public:
  UsbTestbed();
  ~UsbTestbed();
  UsbTestbed(const UsbTestbed&) = delete;
  UsbTestbed& operator=(const UsbTestbed&) = delete;

  // True when the test runs under umockdev's preload (else the test must exit 77).
  bool available() const noexcept { return available_; }
  // Plugs a device (new bus address each time); returns its index for unplug().
  int plug(const DeviceSpec& spec, std::shared_ptr<FirmwareModel> model);
  // Unplugs: pending URBs fail with ESHUTDOWN, then ENODEV; sends the "remove" uevent.
  void unplug(int index);
  // Makes the device node unreadable (chmod 000), like a node without a udev rule for this user.
  void deny_access(int index, bool deny = true);

 private:
  UMockdevTestbed* testbed_ = nullptr;
  bool available_ = false;
  int next_devnum_ = 2;
  std::vector<std::unique_ptr<EmulatedDevice>> devices_;
};

// Descriptor builders (little-endian, USB 2.0 chapter 9 layouts).
std::vector<std::uint8_t> device_descriptor(std::uint16_t vid, std::uint16_t pid, std::uint8_t device_class = 0,
                                            std::uint8_t sub = 0, std::uint8_t proto = 0);
// Wraps interface/endpoint/class descriptors in a configuration descriptor with the right totals.
std::vector<std::uint8_t> config_descriptor(std::uint8_t num_interfaces, const std::vector<std::uint8_t>& body);
std::vector<std::uint8_t> interface_descriptor(std::uint8_t number, std::uint8_t alt, std::uint8_t num_endpoints,
                                               std::uint8_t cls, std::uint8_t sub, std::uint8_t proto);
std::vector<std::uint8_t> endpoint_descriptor(std::uint8_t address, std::uint8_t attributes, std::uint16_t max_packet,
                                              std::uint8_t interval = 0);

// Appends `b` to `a`.
inline void append(std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  for (std::uint8_t v : b) a.push_back(v);  // (insert() trips a GCC 12 -Warray-bounds false positive)
}

}  // namespace palmvein::testing
