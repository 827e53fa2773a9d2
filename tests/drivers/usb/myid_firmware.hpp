// SPDX-License-Identifier: Apache-2.0
// A firmware model of the MyID Palm sensor (docs/usb-protocol.md), with fault injection.
// Thread-safety: see FirmwareModel (state changes only under lock()).
#pragma once

#include <map>
#include <set>

#include "myid_usb/protocol.hpp"
#include "palmvein/image.hpp"
#include "usb_emulation.hpp"

namespace palmvein::testing {

enum class FrameFault {
  Corrupt,     // a pixel byte flipped after the CRC was computed
  Short,       // the last 100 bytes never sent (the next frame follows)
  Garbage,     // 77 junk bytes (with a false magic) before the frame
  BadVersion,  // header_version 9: not a frame the host may accept
};

class MyIdFirmware : public FirmwareModel {
 public:
  explicit MyIdFirmware(bool sixteen_bit = false);

  UrbReply control(const ControlRequest& request) override;
  std::optional<UrbReply> bulk(std::uint8_t endpoint, std::size_t capacity, std::span<const std::uint8_t> out) override;

  // The pixels of frame `counter` (what the host must receive, bit for bit).
  Image expected_image(std::uint32_t counter) const;
  static DeviceSpec spec(const std::string& serial = "SN0001");

  // Device state (read by tests under lock()).
  drivers::myid::DeviceInfo info;
  std::string firmware = "1.4.2";
  std::string serial = "SN0001";
  bool streaming = false;
  std::uint32_t next_counter = 0;
  std::uint32_t exposure_us = 4000;
  std::uint16_t gain_q8 = 256;
  std::uint16_t wavelength_nm = 850;
  std::uint8_t level = 0;
  std::uint8_t last_error = 0;
  std::uint32_t frames_sent = 0;
  int start_requests = 0;

  // Faults.
  std::set<std::uint8_t> stall_requests;         // these control requests STALL
  bool hang_bulk = false;                        // bulk-IN URBs stay pending (the host times out)
  bool stall_bulk = false;                       // the frame endpoint STALLs
  std::map<std::uint32_t, FrameFault> frame_faults;  // by frame counter

 private:
  std::vector<std::uint8_t> pending_;  // rest of a frame larger than the host's buffer
};

}  // namespace palmvein::testing
