// SPDX-License-Identifier: Apache-2.0
// A firmware model of a UVC 1.0 NIR camera: VideoControl (camera terminal with exposure,
// processing unit with gain, optionally the palmvein illumination extension unit) and one
// VideoStreaming interface with GRAY8 (Y800), YUYV and MJPEG formats, over a bulk endpoint or an
// isochronous endpoint (alternate setting 1). Frames are split into UVC payloads (2-byte header,
// FID toggling per frame, EOF on the last payload).
// Thread-safety: see FirmwareModel.
#pragma once

#include <map>

#include "palmvein/image.hpp"
#include "usb_emulation.hpp"

namespace palmvein::testing {

class UvcFirmware : public FirmwareModel {
 public:
  static constexpr int kWidth = 80;
  static constexpr int kHeight = 60;
  static constexpr std::uint32_t kMaxPayload = 1024;
  static constexpr std::uint8_t kEndpoint = 0x82;

  UvcFirmware(bool isochronous, bool with_illumination);

  UrbReply control(const ControlRequest& request) override;
  std::optional<UrbReply> bulk(std::uint8_t endpoint, std::size_t capacity, std::span<const std::uint8_t> out) override;
  bool iso_in(std::uint8_t endpoint, std::span<usbdevfs_iso_packet_desc> packets, std::uint8_t* buffer) override;
  void set_interface(int interface, int alt) override;

  DeviceSpec spec(const std::string& serial = "CAM42") const;
  // The grey picture of device frame `n` (0-based); what the host must see exactly (Y of YUYV).
  static Image expected_gray(std::uint32_t n);
  // The JPEG bytes the camera sends for frame `n` (OpenCV encoder, deterministic).
  static std::vector<std::uint8_t> jpeg(std::uint32_t n);

  bool isochronous;
  bool with_illumination;
  // State.
  int committed_format = 0;  // 1 GRAY8, 2 YUYV, 3 MJPEG; 0 = not committed
  int probe_format = 1;
  int alt_setting = 0;
  std::uint32_t next_frame = 0;
  std::uint32_t exposure_100us = 40;
  std::uint16_t gain = 100;
  std::uint8_t ae_mode = 8;  // aperture priority (auto) until the host sets manual
  std::uint16_t wavelength_nm = 850;
  std::uint8_t level = 0;
  // Faults.
  bool hang = false;                         // no payloads (the host times out)
  std::map<std::uint32_t, bool> short_frames;  // frame n ends early (EOF after half the bytes)

 private:
  bool streaming() const { return committed_format != 0 && (!isochronous || alt_setting == 1); }
  std::vector<std::uint8_t> next_payload(std::size_t capacity);
  std::vector<std::uint8_t> frame_bytes_;  // rest of the current frame
  std::uint8_t fid_ = 0;
};

}  // namespace palmvein::testing
