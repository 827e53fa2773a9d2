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
