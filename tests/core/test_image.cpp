// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "internal/atomic_file.hpp"
#include "palmvein/error.hpp"
#include "palmvein/image.hpp"

using namespace palmvein;

TEST(Image, Gray16ToGray8ScalesBySignificantBits) {
  Image img(4, 2, PixelFormat::Gray16, 10);
  img.row16(0)[0] = 1023;
  img.row16(1)[3] = 512;
  const Image g = img.to_gray8();
  EXPECT_EQ(g.format(), PixelFormat::Gray8);
  EXPECT_EQ(g.row8(0)[0], 255);
  EXPECT_NEAR(g.row8(1)[3], 128, 1);
}

TEST(Image, PngRoundTripIsExact) {
  Image img(37, 21);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) img.row8(y)[x] = static_cast<std::uint8_t>(x * 7 + y * 3);
  const auto path = std::filesystem::temp_directory_path() / "palmvein_test_image.png";
  write_image(path, img);
  EXPECT_EQ(read_image(path), img);
  std::filesystem::remove(path);
}

TEST(Image, CorruptBytesAreAFormatError) {
  const std::vector<std::uint8_t> junk{0x89, 'P', 'N', 'G', 1, 2, 3};
  EXPECT_THROW(decode_image(junk), FormatError);
  EXPECT_THROW(decode_image({}), FormatError);
  EXPECT_THROW(read_image("/nonexistent/palm.png"), IoError);
  EXPECT_THROW(read_image(std::filesystem::temp_directory_path()), IoError);
}

// A file cut short is one clear error, never a template from a half-decoded image; whole files
// (also with bytes after a JPEG's end marker) still decode.
TEST(Image, TruncatedJpegAndPngAreFormatErrors) {
  Image img(96, 64);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) img.row8(y)[x] = static_cast<std::uint8_t>((x * 13 + y * 7) % 251);
  for (const char* ext : {".jpg", ".png"}) {
    const auto path = std::filesystem::temp_directory_path() / (std::string("palmvein_test_truncated") + ext);
    write_image(path, img);
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    EXPECT_EQ(decode_image(whole).width(), 96) << ext;
    for (double keep : {0.5, 0.9}) {
      const std::vector<std::uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep * whole.size()));
      try {
        (void)decode_image(cut);
        ADD_FAILURE() << ext << " cut at " << keep << " decoded";
      } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
      }
    }
    if (std::string(ext) == ".jpg") {
      std::vector<std::uint8_t> padded = whole;
      padded.insert(padded.end(), 16, 0);
      EXPECT_EQ(decode_image(padded).width(), 96);
    }
  }
}

// Only the documented formats reach OpenCV: its other readers (DICOM, JPEG 2000, OpenEXR, WebP ...)
// are never a palm image, and OpenCV's DICOM reader aborts the process on malformed input. Each kind
// is one FormatError; every documented format still decodes.
TEST(Image, OnlyDocumentedFormatsAreDecoded) {
  Image img(64, 48);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) img.row8(y)[x] = static_cast<std::uint8_t>((x * 5 + y * 11) % 253);
  for (const char* ext : {".png", ".jpg", ".bmp", ".pgm", ".tif"}) {
    const auto path = std::filesystem::temp_directory_path() / (std::string("palmvein_test_format") + ext);
    write_image(path, img);
    EXPECT_EQ(read_image(path).width(), 64) << ext;
    std::filesystem::remove(path);
  }
  const auto message_of = [](const std::vector<std::uint8_t>& bytes) -> std::string {
    try {
      (void)decode_image(bytes);
    } catch (const FormatError& e) {
      return e.what();
    }
    return "decoded";
  };
  // The DICOM magic at byte 128 (what the fuzzer found, there after a PNG signature): OpenCV would hand
  // the bytes to GDCM before its own readers. A PNG never reaches OpenCV; a BMP is refused.
  std::vector<std::uint8_t> dicom_png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  dicom_png.resize(200, 0xff);
  std::copy_n("DICM", 4, dicom_png.begin() + 128);
  EXPECT_NE(message_of(dicom_png), "decoded");
  std::vector<std::uint8_t> dicom_bmp = dicom_png;
  dicom_bmp[0] = 'B';
  dicom_bmp[1] = 'M';
  EXPECT_NE(message_of(dicom_bmp).find("DICOM"), std::string::npos) << message_of(dicom_bmp);
  // Formats OpenCV knows but palmvein does not take: JPEG 2000 codestream, OpenEXR, WebP, Radiance HDR.
  for (std::vector<std::uint8_t> other : {std::vector<std::uint8_t>{0xff, 0x4f, 0xff, 0x51, 0, 0x2f, 0, 0},
                                          std::vector<std::uint8_t>{0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0},
                                          std::vector<std::uint8_t>{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'},
                                          std::vector<std::uint8_t>{'#', '?', 'R', 'G', 'B', 'E', '\n', '\n'}}) {
    other.resize(256, 0);
    EXPECT_NE(message_of(other).find("unknown leading bytes"), std::string::npos) << message_of(other);
  }
}

// Damage inside the pixel data is one FormatError with the decoder's reason, and libpng/libjpeg
// print nothing (through cv::imdecode they wrote "libpng error: ..." / "Corrupt JPEG data: ...").
// A header that declares more pixels than the file can hold, or than a palm image has, is refused
// before anything is allocated.
TEST(Image, DamagedPixelDataIsRefusedSilently) {
  Image img(128, 96);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) img.row8(y)[x] = static_cast<std::uint8_t>((x * x + y * 3) % 256);
  const auto encode = [&](const char* ext) {
    const auto path = std::filesystem::temp_directory_path() / (std::string("palmvein_test_damaged") + ext);
    write_image(path, img);
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    return bytes;
  };
  std::vector<std::vector<std::uint8_t>> damaged;
  std::vector<std::uint8_t> png = encode(".png");
  for (std::size_t i = 60; i < 90; ++i) png[i] ^= 0x5a;  // inside the first IDAT chunk
  damaged.push_back(png);
  std::vector<std::uint8_t> jpeg = encode(".jpg");
  for (std::size_t i = jpeg.size() / 3; i < jpeg.size() / 3 + 40; ++i) jpeg[i] = 0xff;  // garbled scan data, EOI kept
  damaged.push_back(jpeg);
  const std::string huge_pgm = "P5\n60000 60000\n255\n";
  damaged.emplace_back(huge_pgm.begin(), huge_pgm.end());
  const std::string short_pgm = "P5\n100 100\n255\nabc";
  damaged.emplace_back(short_pgm.begin(), short_pgm.end());
  for (const auto& bytes : damaged) {
    testing::internal::CaptureStderr();
    EXPECT_THROW((void)decode_image(bytes), FormatError);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  }
}

// A decoder allocates the size its header claims before it reads a pixel: a 47-byte PPM claiming
// 888 x 988855 pixels made OpenCV allocate 2.6 GB (fuzz_image_decode, out-of-memory). Such a header
// is refused before decoding, in every documented format, with one FormatError (reason: the size, or the damaged header); a
// header of an acceptable size still decodes (the other tests).
TEST(Image, HeaderClaimingTooManyPixelsIsRefusedBeforeDecoding) {
  const auto message_of = [](const std::vector<std::uint8_t>& bytes) -> std::string {
    try {
      (void)decode_image(bytes);
    } catch (const FormatError& e) {
      return e.what();
    }
    return "decoded";
  };
  const auto file_bytes = [](const Image& img, const char* ext) {
    const auto path = std::filesystem::temp_directory_path() / (std::string("palmvein_test_claim") + ext);
    write_image(path, img);
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    return bytes;
  };
  const auto put_be = [](std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
  };
  const auto put_le = [](std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  const Image img(16, 8);

  // The fuzzer's reproducer (fuzz/corpus/image_decode/regress-oom-ppm-size) and a plain PGM of 60000 x 60000.
  const std::string ppm("P6\t888=988855\t1\t4=888=9888888\0" "98\0" "1\t1\x98" "7\x1d\0\0\0\xff\xff\xff\xff\xff", 47);
  EXPECT_NE(message_of({ppm.begin(), ppm.end()}), "decoded")
      << message_of({ppm.begin(), ppm.end()});
  const std::string pgm = "P5\n# a comment\n60000 60000\n255\n\x01\x02";
  EXPECT_NE(message_of({pgm.begin(), pgm.end()}), "decoded");

  auto png = file_bytes(img, ".png");
  put_be(png, 16, 70000, 4);  // IHDR width
  EXPECT_NE(message_of(png), "decoded") << message_of(png);

  auto jpeg = file_bytes(img, ".jpg");
  for (std::size_t i = 2; i + 9 < jpeg.size(); ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      put_be(jpeg, i + 5, 65000, 2);  // SOF0 height
      put_be(jpeg, i + 7, 65000, 2);  // SOF0 width
      break;
    }
  EXPECT_NE(message_of(jpeg), "decoded") << message_of(jpeg);

  auto bmp = file_bytes(img, ".bmp");
  put_le(bmp, 22, static_cast<std::uint32_t>(-100000), 4);  // top-down, 100000 rows
  EXPECT_NE(message_of(bmp), "decoded") << message_of(bmp);

  // A little-endian TIFF whose first directory says 20000 x 20000 (LONG entries).
  std::vector<std::uint8_t> tiff{'I', 'I', 42, 0, 8, 0, 0, 0, 2, 0};
  for (const std::uint16_t tag : {256, 257}) {
    const std::vector<std::uint8_t> entry{static_cast<std::uint8_t>(tag), static_cast<std::uint8_t>(tag >> 8), 4, 0, 1, 0, 0, 0,
                                          0x20, 0x4e, 0, 0};
    tiff.insert(tiff.end(), entry.begin(), entry.end());
  }
  tiff.resize(tiff.size() + 4 + 64, 0);
  EXPECT_NE(message_of(tiff), "decoded") << message_of(tiff);
}

TEST(Image, RejectsBadSizes) {
  EXPECT_THROW(Image(0, 5), InvalidArgument);
  EXPECT_THROW(Image(-1, 5), InvalidArgument);
}

// Outputs that belong together (scores, report, DET plot) are all renamed into place only once every
// one is complete: a failure on the last keeps the earlier run's files and leaves no temporary.
TEST(StagedFiles, AFailedOutputKeepsEveryEarlierFile) {
  const auto dir = std::filesystem::temp_directory_path() / "palmvein_test_staged";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const auto write = [](const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; };
  write(dir / "scores.csv", "old scores");
  write(dir / "report.json", "old report");
  {
    palmvein::internal::StagedFiles outputs;
    outputs.stage(dir / "scores.csv", std::string_view("new scores"));
    outputs.stage(dir / "report.json", std::string_view("new report"));
    EXPECT_THROW(outputs.stage(dir / "no-such-folder" / "det.png", std::string_view("png")), IoError);
  }
  EXPECT_EQ(read(dir / "scores.csv"), "old scores");
  EXPECT_EQ(read(dir / "report.json"), "old report");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 2);
  {
    palmvein::internal::StagedFiles outputs;
    outputs.stage(dir / "scores.csv", std::string_view("new scores"));
    outputs.stage(dir / "report.json", std::string_view("new report"));
    outputs.commit();
  }
  EXPECT_EQ(read(dir / "scores.csv"), "new scores");
  EXPECT_EQ(read(dir / "report.json"), "new report");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 2);
  std::filesystem::remove_all(dir);
}

// Inputs are read with a stated bound: /dev/zero (endless) and a folder are one clear error, after at
// most the bound, never a read to exhaustion.
TEST(Image, EndlessOrFolderInputIsRefused) {
  try {
    (void)read_image("/dev/zero");
    ADD_FAILURE() << "/dev/zero decoded";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)read_image(std::filesystem::temp_directory_path()), IoError);
}
