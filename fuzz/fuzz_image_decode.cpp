// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: decode_image must turn any byte string into an image or a FormatError.
#include <cstdint>
#include <span>

#include "palmvein/error.hpp"
#include "palmvein/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto image = palmvein::decode_image(std::span<const std::uint8_t>(data, size));
    (void)image.to_gray8();
  } catch (const palmvein::FormatError&) {
  } catch (const palmvein::InvalidArgument&) {
  }
  return 0;
}
