// SPDX-License-Identifier: Apache-2.0
// Template serialisation: round trip, the size budget, and rejection of every kind of bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "features/features.hpp"
#include "palmvein/error.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/template.hpp"
#include "palmvein_tools/synthetic_palm.hpp"
#include "template_data.hpp"

namespace {

using palmvein::FormatError;
using palmvein::Template;
using Bytes = std::vector<std::uint8_t>;

Template make_template(std::uint32_t palm, double dx = 0, double dy = 0, std::uint32_t noise = 0) {
  return Template(std::make_shared<const palmvein::detail::TemplateData>(
      palmvein::detail::compute_features(palmvein::testing::render_palm(palm, dx, dy, 0, noise))));
}

// Rewrites the CRC so that a deliberately edited field reaches field validation.
Bytes with_crc(Bytes b) {
  const std::size_t end = b.size() - 4;
  const std::uint32_t crc = palmvein::detail::crc32(std::span<const std::uint8_t>(b.data(), end));
  for (int i = 0; i < 4; ++i) b[end + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  return b;
}

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

std::string error_of(const Bytes& b) {
  try {
    (void)Template::from_bytes(b);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(Template, RoundTripIsExact) {
  const Template t = make_template(1);
  const Bytes bytes = t.to_bytes();
  const Template back = Template::from_bytes(bytes);
  EXPECT_EQ(back.data(), t.data());
  EXPECT_EQ(back.to_bytes(), bytes);
  EXPECT_EQ(back.algorithm(), palmvein::detail::kAlgorithmBocvWld);
  EXPECT_EQ(t.serialized_size(), bytes.size());
  EXPECT_LE(bytes.size(), 2048u);
  EXPECT_DOUBLE_EQ(palmvein::match(back, t), palmvein::match(t, t));
}

TEST(Template, KnownCrc32) {
  const std::string s = "123456789";  // the standard check value of CRC-32/IEEE
  EXPECT_EQ(palmvein::detail::crc32(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())),
            0xCBF43926u);
}

TEST(Template, EveryTruncationIsRejected) {
  const Bytes bytes = make_template(2).to_bytes();
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_THROW((void)Template::from_bytes(std::span<const std::uint8_t>(bytes.data(), n)), FormatError) << n;
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_THROW((void)Template::from_bytes(longer), FormatError);
}

TEST(Template, EverySingleByteFlipIsRejected) {
  const Bytes bytes = make_template(3).to_bytes();
  for (std::size_t i = 0; i < bytes.size(); ++i)
    for (std::uint8_t flip : {0x01, 0x80, 0xFF}) {
      Bytes b = bytes;
      b[i] ^= flip;
      EXPECT_THROW((void)Template::from_bytes(b), FormatError) << "byte " << i << " ^ " << int(flip);
    }
}

TEST(Template, FieldValidationMessages) {
  const Bytes good = make_template(4).to_bytes();
  {
    Bytes b = good;
    b[0] = 'X';
    EXPECT_NE(error_of(b).find("magic"), std::string::npos);
  }
  {
    Bytes b = good;
    put16(b, 4, 2);  // a future format version, with a valid checksum
    EXPECT_NE(error_of(with_crc(b)).find("version 2"), std::string::npos);
  }
  {
    Bytes b = good;
    put16(b, 6, 77);  // an algorithm this library does not know
    EXPECT_NE(error_of(with_crc(b)).find("algorithm 77"), std::string::npos);
    EXPECT_NE(error_of(with_crc(b)).find("re-enrol"), std::string::npos);  // says what to do
  }
  {
    Bytes b = good;  // a huge payload length: refused before any allocation
    b[12] = b[13] = b[14] = b[15] = 0xFF;
    EXPECT_NE(error_of(with_crc(b)).find("length"), std::string::npos);
  }
  {
    Bytes b = good;
    put16(b, 16, 65);  // orientation grid width beyond the matcher's 64
    EXPECT_NE(error_of(with_crc(b)).find("out of range"), std::string::npos);
  }
  {
    Bytes b = good;
    put16(b, 16 + 4, 5);  // plane count disagrees with the header's orientations
    EXPECT_FALSE(error_of(with_crc(b)).empty());
  }
  {
    Bytes b = good;
    b[11] = 9;  // shift radius out of range
    EXPECT_NE(error_of(with_crc(b)).find("shift"), std::string::npos);
  }
  {
    Bytes b = good;
    // Clear the first mask word of the orientation code: its code bits are now on invalid cells.
    for (int i = 0; i < 8; ++i) b[24 + static_cast<std::size_t>(i)] = 0;
    EXPECT_NE(error_of(with_crc(b)).find("invalid cells"), std::string::npos);
  }
  EXPECT_NE(error_of(Bytes{}).find("truncated"), std::string::npos);
}

TEST(Template, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const Bytes good = make_template(5).to_bytes();
  for (int k = 0; k < 2000; ++k) {
    Bytes b(static_cast<std::size_t>(rng() % 1400));
    for (auto& v : b) v = static_cast<std::uint8_t>(rng());
    if (k % 2 && b.size() >= 20) std::copy(good.begin(), good.begin() + 16, b.begin());  // plausible header
    EXPECT_THROW((void)Template::from_bytes(with_crc(b.size() >= 4 ? b : Bytes(4))), FormatError);
  }
}

// Golden files: templates written by an earlier build must still load and match. Regenerate (only
// when the format or algorithm deliberately changes, with a new version/id) with
//   PALMVEIN_WRITE_GOLDEN=1 ./test_template --gtest_filter=Golden.*
std::filesystem::path golden_dir() { return PALMVEIN_GOLDEN_DIR; }

Bytes read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Golden, OldTemplatesLoadAndMatch) {
  const char* names[] = {"palm1-a.pvt", "palm1-b.pvt", "palm2.pvt"};
  if (std::getenv("PALMVEIN_WRITE_GOLDEN")) {
    const Template fresh[] = {make_template(101), make_template(101, 3, -2, 9), make_template(202)};
    for (int i = 0; i < 3; ++i) {
      const Bytes b = fresh[i].to_bytes();
      std::ofstream(golden_dir() / names[i], std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                                                     static_cast<std::streamsize>(b.size()));
    }
  }
  std::vector<Template> t;
  for (const char* n : names) {
    const Bytes b = read_all(golden_dir() / n);
    ASSERT_FALSE(b.empty()) << "missing golden file " << n;
    t.push_back(Template::from_bytes(b));
    EXPECT_EQ(t.back().to_bytes(), b) << n;  // canonical: re-serialises byte for byte
  }
  const double genuine = palmvein::match(t[0], t[1]);
  const double impostor = palmvein::match(t[0], t[2]);
  EXPECT_GT(genuine, impostor + 0.1);
  // Today's extractor still agrees with the golden template of the same synthetic palm.
  EXPECT_GT(palmvein::match(make_template(101), t[0]), 0.9);
  EXPECT_GT(palmvein::match(make_template(101), t[1]), impostor + 0.1);
}

}  // namespace
