// SPDX-License-Identifier: Apache-2.0
// MyID protocol encoding and the frame parser's resynchronisation, without USB.
#include <gtest/gtest.h>

#include <random>

#include "myid_usb/frame_parser.hpp"
#include "myid_usb/protocol.hpp"
#include "myid_usb/libusb_raii.hpp"
#include "usb_ids.hpp"

namespace palmvein::drivers::myid {
namespace {

DeviceInfo small_info() {
  DeviceInfo info;
  info.width = 8;
  info.height = 4;
  info.model = "test";
  return info;
}

std::vector<std::uint8_t> frame(std::uint32_t counter, const DeviceInfo& info = small_info()) {
  std::vector<std::uint8_t> pixels(info.payload_size());
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 3 + counter);
  FrameHeader h;
  h.frame_counter = counter;
  h.width = info.width;
  h.height = info.height;
  return encode_frame(h, pixels);
}

TEST(MyIdProtocol, Crc32MatchesTheStandardCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32({reinterpret_cast<const std::uint8_t*>(check.data()), check.size()}), 0xcbf43926u);
}

TEST(MyIdProtocol, InfoRoundTripsAndRejectsNonsense) {
  DeviceInfo info = small_info();
  info.bank_count = 2;
  info.wavelengths_nm = {850, 940, 0, 0};
  info.exposure_max_us = 100;
  const auto bytes = encode_info(info);
  const auto back = decode_info(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->width, 8);
  EXPECT_EQ(back->wavelengths_nm[1], 940);
  EXPECT_EQ(back->model, "test");
  auto bad = bytes;
  bad[0] = 2;  // protocol version 2
  EXPECT_FALSE(decode_info(bad));
  EXPECT_FALSE(decode_info(std::span(bytes).first(10)));
}

// The string fields are NUL-padded, not NUL-terminated (docs/usb-protocol.md): a name that fills the
// field is what the host reads, and the encoders (the firmware model's) must write it whole. They cut
// one character short, so decode -> encode -> decode changed a 36-character model (fuzz_usb_frame).
TEST(MyIdProtocol, StringFieldsThatFillTheirWidthRoundTrip) {
  DeviceInfo info = small_info();
  info.model = std::string(kModelSize, 'M');
  info.model.back() = 'Z';
  const auto back = decode_info(encode_info(info));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->model, info.model);
  const auto again = decode_info(encode_info(*back));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->model, back->model);
  info.model += "-cut";  // longer than the field: cut to its width
  EXPECT_EQ(decode_info(encode_info(info))->model, back->model);

  const std::string serial = "SN0123456789abcdef0123456789ABCD";
  ASSERT_EQ(serial.size(), kStringSize);
  EXPECT_EQ(decode_string(encode_string(serial)), serial);
  EXPECT_EQ(decode_string(encode_string(serial + "!")), serial);
  EXPECT_EQ(decode_string(encode_string("1.4.2")), "1.4.2");
}

TEST(MyIdProtocol, HeaderLayoutIsTheDocumentedOne) {
  const auto f = frame(0x01020304);
  EXPECT_EQ(f.size(), kHeaderSize + 32);
  EXPECT_EQ(std::string(f.begin(), f.begin() + 4), "PVF1");
  EXPECT_EQ(f[8], 0x04);  // counter, little-endian
  EXPECT_EQ(get_u32(&f[28]), 32u);
}

TEST(MyIdParser, ReassemblesFramesSplitAtEveryPoint) {
  std::vector<std::uint8_t> stream;
  for (std::uint32_t c = 0; c < 3; ++c) {
    const auto f = frame(c);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (std::size_t split = 1; split < stream.size(); ++split) {
    FrameParser parser(small_info());
    parser.feed(std::span(stream).first(split));
    parser.feed(std::span(stream).subspan(split));
    for (std::uint32_t c = 0; c < 3; ++c) {
      auto out = parser.pop();
      ASSERT_TRUE(out) << "split " << split;
      EXPECT_EQ(out->header.frame_counter, c);
    }
    EXPECT_FALSE(parser.pop());
    EXPECT_EQ(parser.corrupt_frames(), 0u);
  }
}

TEST(MyIdParser, DropsCorruptShortAndForeignDataAndResynchronises) {
  std::vector<std::uint8_t> stream = {'j', 'u', 'n', 'k', 'P', 'V', 'F', '1', 0, 0};
  auto corrupt = frame(1);
  corrupt[kHeaderSize + 5] ^= 1;
  auto truncated = frame(2);
  truncated.resize(truncated.size() - 7);
  auto wrong_size = frame(3, [] { auto i = small_info(); i.width = 9; return i; }());
  for (const auto& part : {frame(0), corrupt, truncated, wrong_size, frame(4)}) {
    stream.insert(stream.end(), part.begin(), part.end());
  }
  FrameParser parser(small_info());
  std::mt19937 rng(7);
  for (std::size_t pos = 0; pos < stream.size();) {
    const std::size_t n = std::min<std::size_t>(stream.size() - pos, 1 + rng() % 50);
    parser.feed(std::span(stream).subspan(pos, n));
    pos += n;
  }
  ASSERT_EQ(parser.pop()->header.frame_counter, 0u);
  const auto last = parser.pop();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->header.frame_counter, 4u);
  const auto f4 = frame(4);
  EXPECT_EQ(last->pixels, std::vector<std::uint8_t>(f4.begin() + kHeaderSize, f4.end()));
  EXPECT_FALSE(parser.pop());
  EXPECT_EQ(parser.corrupt_frames(), 2u);  // the corrupt one and the short one
  EXPECT_GT(parser.resync_bytes(), 0u);
}

TEST(UsbErrors, LibusbResultsMapToTheDocumentedFaults) {
  using usb::fault_from_error;
  EXPECT_EQ(fault_from_error(LIBUSB_ERROR_BUSY), DeviceFault::Busy);
  EXPECT_EQ(fault_from_error(LIBUSB_ERROR_ACCESS), DeviceFault::Permission);
  EXPECT_EQ(fault_from_error(LIBUSB_ERROR_PIPE), DeviceFault::Protocol);
  EXPECT_EQ(fault_from_error(LIBUSB_ERROR_TIMEOUT), DeviceFault::Timeout);
  EXPECT_EQ(fault_from_error(LIBUSB_ERROR_NO_DEVICE), DeviceFault::Removed);
  EXPECT_EQ(fault_from_error(LIBUSB_ERROR_IO), DeviceFault::Io);
  EXPECT_EQ(usb::fault_from_status(LIBUSB_TRANSFER_STALL), DeviceFault::Protocol);
  EXPECT_EQ(usb::fault_from_status(LIBUSB_TRANSFER_NO_DEVICE), DeviceFault::Removed);
  try {
    usb::throw_error(LIBUSB_ERROR_ACCESS, "open 1209:000a");
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.fault(), DeviceFault::Permission);
    // A library message: it points at the installed udev rules, not at a CLI subcommand.
    EXPECT_NE(std::string(e.what()).find("70-palmvein.rules"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << e.what();
  }
}

TEST(UsbIds, TableHasTheTestIdsAndRulesCoverEveryEntry) {
  const KnownUsbId* myid = find_usb_id(0x1209, 0x000a);
  ASSERT_TRUE(myid);
  EXPECT_EQ(myid->driver, UsbDriver::MyIdUsb);
  EXPECT_TRUE(myid->test_id);
  EXPECT_EQ(find_usb_id(0x1209, 0x1234), nullptr);
  const std::string rules = udev_rules();
  for (const auto& id : known_usb_ids()) {
    char match[96];
    std::snprintf(match, sizeof match, "ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\"", id.vendor_id,
                  id.product_id);
    EXPECT_NE(rules.find(match), std::string::npos) << match;
  }
  EXPECT_NE(rules.find("TAG+=\"uaccess\""), std::string::npos);
}

}  // namespace
}  // namespace palmvein::drivers::myid
