// SPDX-License-Identifier: Apache-2.0
#include "usb_emulation.hpp"

#include <sys/stat.h>
#include <umockdev.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

namespace palmvein::testing {

// One emulated device: the umockdev ioctl handler of its /dev/bus/usb/BBB/DDD node.
class EmulatedDevice {
 public:
  EmulatedDevice(const DeviceSpec& spec, std::shared_ptr<FirmwareModel> model)
      : spec_(spec), model_(std::move(model)), handler_(umockdev_ioctl_base_new()) {
    g_signal_connect(handler_, "handle-ioctl", G_CALLBACK(&EmulatedDevice::on_ioctl), this);
  }
  ~EmulatedDevice() {
    for (auto& urb : urbs_) umockdev_ioctl_data_unref(urb.data);
    g_object_unref(handler_);
  }
  UMockdevIoctlBase* handler() const noexcept { return handler_; }
  void unplug() {
    std::lock_guard lock(model_->mutex);
    unplugged_ = true;
  }
  std::string syspath;
  std::string devnode;

 private:
  struct Urb {
    UMockdevIoctlData* data;  // the resolved usbdevfs_urb (holds the resolved buffer as a child)
    UMockdevIoctlClient* client;
    bool discarded = false;
    bool done = false;  // control URBs are answered at submit time
    int status = 0;
    int actual_length = 0;
  };

  static gboolean on_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self) {
    return static_cast<EmulatedDevice*>(self)->handle(client);
  }

  static usbdevfs_urb* urb_of(const Urb& u) { return reinterpret_cast<usbdevfs_urb*>(u.data->data); }

  gboolean handle(UMockdevIoctlClient* client) {
    const gulong request = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    std::lock_guard lock(model_->mutex);
    switch (request) {
      case USBDEVFS_GET_CAPABILITIES: {
        UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), nullptr);
        *reinterpret_cast<guint32*>(d->data) = USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_BULK_CONTINUATION |
                                              USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT |
                                              USBDEVFS_CAP_ZERO_PACKET;
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_GETDRIVER:  // no kernel driver bound (libusb_detach_kernel_driver: NOT_FOUND)
      case USBDEVFS_IOCTL:
        umockdev_ioctl_client_complete(client, -1, unplugged_ ? ENODEV : ENODATA);
        return TRUE;
      case USBDEVFS_CLAIMINTERFACE:
      case USBDEVFS_RELEASEINTERFACE: {
        if (unplugged_) return fail(client, ENODEV);
        UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned int), nullptr);
        const unsigned iface = *reinterpret_cast<unsigned*>(d->data);
        auto it = claims_.find(iface);
        if (request == USBDEVFS_CLAIMINTERFACE) {
          if (it != claims_.end() && it->second != client && umockdev_ioctl_client_get_connected(it->second)) {
            return fail(client, EBUSY);
          }
          claims_[iface] = client;
        } else if (it != claims_.end() && it->second == client) {
          claims_.erase(it);
        }
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_SETINTERFACE: {
        if (unplugged_) return fail(client, ENODEV);
        UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_setinterface), nullptr);
        const auto* s = reinterpret_cast<usbdevfs_setinterface*>(d->data);
        model_->set_interface(static_cast<int>(s->interface), static_cast<int>(s->altsetting));
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      }
      case USBDEVFS_CLEAR_HALT:
      case USBDEVFS_RESETEP:
      case USBDEVFS_RESET:
        if (unplugged_) return fail(client, ENODEV);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
      case USBDEVFS_SUBMITURB: return submit(client, arg);
      case USBDEVFS_REAPURB:
      case USBDEVFS_REAPURBNDELAY: return reap(client, arg);
      case USBDEVFS_DISCARDURB: {
        const auto addr = reinterpret_cast<gulong>(*reinterpret_cast<void**>(arg->data));
        for (auto& u : urbs_) {
          if (u.client == client && u.data->client_addr == addr && !u.discarded) {
            u.discarded = true;
            umockdev_ioctl_client_complete(client, 0, 0);
            return TRUE;
          }
        }
        return fail(client, EINVAL);
      }
      default: return FALSE;
    }
  }

  gboolean fail(UMockdevIoctlClient* client, int err) {
    umockdev_ioctl_client_complete(client, -1, err);
    return TRUE;
  }

  gboolean submit(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    if (unplugged_) return fail(client, ENODEV);
    // Isochronous URBs carry their packet descriptors after the struct, so the size to resolve
    // depends on the URB. The client shares our address space (umockdev runs in-process), so peek
    // at type and packet count first, then resolve the whole thing once (re-resolving the root
    // argument is not supported by umockdev 0.17: reload() cannot restore its client pointer).
    const auto* peek = *reinterpret_cast<const usbdevfs_urb* const*>(arg->data);
    std::size_t size = sizeof(usbdevfs_urb);
    if (peek->type == USBDEVFS_URB_TYPE_ISO && peek->number_of_packets > 0) {
      size += sizeof(usbdevfs_iso_packet_desc) * static_cast<std::size_t>(peek->number_of_packets);
    }
    UMockdevIoctlData* urb_data = umockdev_ioctl_data_resolve(arg, 0, size, nullptr);
    auto* urb = reinterpret_cast<usbdevfs_urb*>(urb_data->data);
    if (urb->buffer_length > 0) {
      umockdev_ioctl_data_resolve(urb_data, offsetof(usbdevfs_urb, buffer), static_cast<gsize>(urb->buffer_length),
                                  nullptr);
    }
    Urb u{umockdev_ioctl_data_ref(urb_data), client};
    if (urb->type == USBDEVFS_URB_TYPE_CONTROL) answer_control(u);
    urbs_.push_back(u);
    umockdev_ioctl_client_complete(client, 0, 0);
    return TRUE;
  }

  void answer_control(Urb& u) {
    usbdevfs_urb* urb = urb_of(u);
    auto* buf = static_cast<std::uint8_t*>(urb->buffer);
    ControlRequest req;
    req.request_type = buf[0];
    req.request = buf[1];
    req.value = static_cast<std::uint16_t>(buf[2] | (buf[3] << 8));
    req.index = static_cast<std::uint16_t>(buf[4] | (buf[5] << 8));
    req.length = static_cast<std::uint16_t>(buf[6] | (buf[7] << 8));
    const bool in = req.request_type & 0x80;
    if (!in) req.data_out.assign(buf + 8, buf + 8 + req.length);
    UrbReply reply = standard_request(req) ? string_descriptor(req) : model_->control(req);
    u.done = true;
    u.status = reply.status;
    if (in && reply.status == 0) {
      const std::size_t n = std::min<std::size_t>(reply.data.size(), req.length);
      if (n > 0) std::memcpy(buf + 8, reply.data.data(), n);
      u.actual_length = static_cast<int>(n);
    } else if (reply.status == 0) {
      u.actual_length = req.length;
    }
  }

  static bool standard_request(const ControlRequest& req) {
    return req.request_type == 0x80 && req.request == 6 && (req.value >> 8) == 3;  // GET_DESCRIPTOR(STRING)
  }

  UrbReply string_descriptor(const ControlRequest& req) const {
    const unsigned index = req.value & 0xff;
    UrbReply r;
    if (index == 0) {
      r.data = {4, 3, 0x09, 0x04};  // LANGID en-US
      return r;
    }
    if (index > spec_.strings.size()) return UrbReply{-EPIPE, {}};
    const std::string& s = spec_.strings[index - 1];
    r.data = {static_cast<std::uint8_t>(2 + 2 * s.size()), 3};
    for (char c : s) {
      r.data.push_back(static_cast<std::uint8_t>(c));
      r.data.push_back(0);
    }
    return r;
  }

  // Completes the first URB of `client` that can complete now; false if none can.
  bool complete_one(UMockdevIoctlClient* client, UMockdevIoctlData** out) {
    for (auto it = urbs_.begin(); it != urbs_.end(); ++it) {
      if (it->client != client) continue;
      usbdevfs_urb* urb = urb_of(*it);
      if (it->discarded) {
        urb->status = -ENOENT;
        urb->actual_length = 0;
      } else if (unplugged_) {
        urb->status = -ESHUTDOWN;
        urb->actual_length = 0;
      } else if (it->done) {
        urb->status = it->status;
        urb->actual_length = it->actual_length;
      } else if (urb->type == USBDEVFS_URB_TYPE_BULK || urb->type == USBDEVFS_URB_TYPE_INTERRUPT) {
        const bool in = urb->endpoint & 0x80;
        std::span<const std::uint8_t> out_data;
        if (!in) out_data = {static_cast<std::uint8_t*>(urb->buffer), static_cast<std::size_t>(urb->buffer_length)};
        auto reply = model_->bulk(urb->endpoint, static_cast<std::size_t>(urb->buffer_length), out_data);
        if (!reply) continue;
        urb->status = reply->status;
        if (in) {
          const std::size_t n = std::min<std::size_t>(reply->data.size(), static_cast<std::size_t>(urb->buffer_length));
          if (n > 0) std::memcpy(urb->buffer, reply->data.data(), n);
          urb->actual_length = static_cast<int>(n);
        } else {
          urb->actual_length = reply->status == 0 ? urb->buffer_length : 0;
        }
      } else if (urb->type == USBDEVFS_URB_TYPE_ISO) {
        std::span<usbdevfs_iso_packet_desc> packets(urb->iso_frame_desc, static_cast<std::size_t>(urb->number_of_packets));
        if (!model_->iso_in(urb->endpoint, packets, static_cast<std::uint8_t*>(urb->buffer))) continue;
        urb->status = 0;
        urb->error_count = 0;
        int total = 0;
        for (const auto& p : packets) total += static_cast<int>(p.actual_length);
        urb->actual_length = total;
      } else {
        continue;
      }
      *out = it->data;
      urbs_.erase(it);
      return true;
    }
    return false;
  }

  gboolean reap(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    UMockdevIoctlData* urb_data = nullptr;
    if (!complete_one(client, &urb_data)) {
      const bool any = std::any_of(urbs_.begin(), urbs_.end(), [&](const Urb& u) { return u.client == client; });
      return fail(client, unplugged_ && !any ? ENODEV : EAGAIN);
    }
    UMockdevIoctlData* ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), nullptr);
    umockdev_ioctl_data_set_ptr(ptr, 0, urb_data);
    umockdev_ioctl_client_complete(client, 0, 0);
    umockdev_ioctl_data_unref(urb_data);  // `ptr` holds it until the reply is flushed
    return TRUE;
  }

  DeviceSpec spec_;
  std::shared_ptr<FirmwareModel> model_;
  UMockdevIoctlBase* handler_;
  std::vector<Urb> urbs_;
  std::map<unsigned, UMockdevIoctlClient*> claims_;
  bool unplugged_ = false;
};

UsbTestbed::UsbTestbed() {
  testbed_ = umockdev_testbed_new();
  available_ = testbed_ != nullptr && umockdev_in_mock_environment();  // only after testbed_new (it caches)
}

UsbTestbed::~UsbTestbed() {
  if (testbed_) g_object_unref(testbed_);  // removes the testbed's temporary root
  devices_.clear();
}

namespace {

std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  char b[3];
  for (auto v : bytes) {
    std::snprintf(b, sizeof b, "%02x", v);
    out += b;
  }
  return out;
}

}  // namespace

int UsbTestbed::plug(const DeviceSpec& spec, std::shared_ptr<FirmwareModel> model) {
  const int bus = 1;
  const int devnum = next_devnum_++;
  auto device = std::make_unique<EmulatedDevice>(spec, std::move(model));
  char devnode[64], syspath[96], text[2048];
  std::snprintf(devnode, sizeof devnode, "/dev/bus/usb/%03d/%03d", bus, devnum);
  std::snprintf(syspath, sizeof syspath, "/devices/pci0000:00/0000:00:14.0/usb%d/%d-%d", bus, bus, devnum);
  GError* error = nullptr;
  if (!umockdev_testbed_attach_ioctl(testbed_, devnode, device->handler(), &error)) {
    std::string message = error ? error->message : "?";
    g_clear_error(&error);
    throw std::runtime_error("umockdev_testbed_attach_ioctl: " + message);
  }
  std::snprintf(text, sizeof text,
                "P: %s\nN: bus/usb/%03d/%03d\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
                "E: DEVNAME=%s\nE: BUSNUM=%03d\nE: DEVNUM=%03d\nE: PRODUCT=%x/%x/100\n"
                "A: busnum=%d\\n\nA: devnum=%d\\n\nA: bConfigurationValue=1\\n\nA: speed=480\\n\n"
                "A: idVendor=%04x\\n\nA: idProduct=%04x\\n\nA: serial=%s\\n\n",
                syspath, bus, devnum, devnode, bus, devnum, spec.vendor_id, spec.product_id, bus, devnum,
                spec.vendor_id, spec.product_id, spec.serial.c_str());
  const std::string description = std::string(text) + "H: descriptors=" + hex(spec.descriptors) + "\n";
  if (!umockdev_testbed_add_from_string(testbed_, description.c_str(), &error)) {
    std::string message = error ? error->message : "?";
    g_clear_error(&error);
    throw std::runtime_error("umockdev_testbed_add_from_string: " + message);
  }
  device->syspath = std::string("/sys") + syspath;
  device->devnode = devnode;
  devices_.push_back(std::move(device));
  return static_cast<int>(devices_.size()) - 1;
}

void UsbTestbed::unplug(int index) {
  EmulatedDevice& device = *devices_.at(static_cast<std::size_t>(index));
  device.unplug();
  umockdev_testbed_uevent(testbed_, device.syspath.c_str(), "remove");
  umockdev_testbed_remove_device(testbed_, device.syspath.c_str());
}

void UsbTestbed::deny_access(int index, bool deny) {
  gchar* root = umockdev_testbed_get_root_dir(testbed_);
  const std::string path = std::string(root) + devices_.at(static_cast<std::size_t>(index))->devnode;
  g_free(root);
  if (chmod(path.c_str(), deny ? 0 : 0666) != 0) throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
}

std::vector<std::uint8_t> device_descriptor(std::uint16_t vid, std::uint16_t pid, std::uint8_t cls, std::uint8_t sub,
                                            std::uint8_t proto) {
  return {18,   1, 0x00, 0x02, cls, sub, proto, 64, static_cast<std::uint8_t>(vid), static_cast<std::uint8_t>(vid >> 8),
          static_cast<std::uint8_t>(pid), static_cast<std::uint8_t>(pid >> 8), 0x00, 0x01, 1, 2, 3, 1};
}

std::vector<std::uint8_t> config_descriptor(std::uint8_t num_interfaces, const std::vector<std::uint8_t>& body) {
  const auto total = static_cast<std::uint16_t>(9 + body.size());
  std::vector<std::uint8_t> out(total);
  const std::uint8_t head[9] = {9, 2, static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(total >> 8),
                                num_interfaces, 1, 0, 0x80, 50};
  std::copy(std::begin(head), std::end(head), out.begin());
  std::copy(body.begin(), body.end(), out.begin() + 9);
  return out;
}

std::vector<std::uint8_t> interface_descriptor(std::uint8_t number, std::uint8_t alt, std::uint8_t num_endpoints,
                                               std::uint8_t cls, std::uint8_t sub, std::uint8_t proto) {
  return {9, 4, number, alt, num_endpoints, cls, sub, proto, 0};
}

std::vector<std::uint8_t> endpoint_descriptor(std::uint8_t address, std::uint8_t attributes, std::uint16_t max_packet,
                                              std::uint8_t interval) {
  return {7, 5, address, attributes, static_cast<std::uint8_t>(max_packet), static_cast<std::uint8_t>(max_packet >> 8),
          interval};
}

}  // namespace palmvein::testing
