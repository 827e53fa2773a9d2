// SPDX-License-Identifier: Apache-2.0
// See internal/quiet_decoders.hpp. Both libraries report errors by longjmp from a callback; every
// function below that calls setjmp holds only trivially destructible locals, so the jump skips no
// destructor (C++ [csetjmp.syn]), and the readers' RAII owners live in the caller.
#include "internal/quiet_decoders.hpp"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>  // after jpeglib.h: the message codes
#include <png.h>

#include <opencv2/imgproc.hpp>

#include "palmvein/error.hpp"

namespace palmvein::internal {
namespace {


// ---------------------------------------------------------------------------------------------- PNG

struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t position = 0;
  char message[256] = {};
  PngReader() = default;
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
  ~PngReader() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

[[noreturn]] void on_png_error(png_structp png, png_const_charp text) {
  auto* reader = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(reader->message, sizeof reader->message, "%s", text ? text : "unknown error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // e.g. "iCCP: known incorrect sRGB profile"

void read_png_bytes(png_structp png, png_bytep out, png_size_t count) {
  auto* reader = static_cast<PngReader*>(png_get_io_ptr(png));
  if (count > reader->size - reader->position) png_error(png, "unexpected end of file");
  std::memcpy(out, reader->data + reader->position, count);
  reader->position += count;
}

struct PngShape {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0;
  int channels = 0;
};

// Reads the header and sets the transformations: 8- or 16-bit, grey or RGB, no alpha, no palette.
bool png_start(PngReader& r, PngShape& shape) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_set_read_fn(r.png, &r, read_png_bytes);
  png_set_user_limits(r.png, 65536, 65536);  // Image's own size limit
  png_read_info(r.png, r.info);
  const int color_type = png_get_color_type(r.png, r.info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
  if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(r.png, r.info) < 8) png_set_expand_gray_1_2_4_to_8(r.png);
  if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(r.png);
  if (png_get_bit_depth(r.png, r.info) == 16) png_set_swap(r.png);  // host order (little-endian)
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  shape.width = png_get_image_width(r.png, r.info);
  shape.height = png_get_image_height(r.png, r.info);
  shape.bit_depth = png_get_bit_depth(r.png, r.info);
  shape.channels = png_get_channels(r.png, r.info);
  return true;
}

bool png_read_rows(PngReader& r, png_bytepp rows) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);
  return true;
}

// --------------------------------------------------------------------------------------------- JPEG

struct JpegErrors {
  jpeg_error_mgr manager;  // first member: libjpeg hands back a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool damaged;  // a warning that means missing or garbled pixels
};

[[noreturn]] void on_jpeg_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (level < 0) that leave every pixel intact; any other warning means the data was cut
// or garbled, and the decoder filled the gap with grey.
bool harmless_jpeg_warning(int code) {
  return code == JWRN_EXTRANEOUS_DATA || code == JWRN_ADOBE_XFORM || code == JWRN_JFIF_MAJOR ||
         code == JWRN_BOGUS_ICC || code == JWRN_BOGUS_PROGRESSION;
}

void on_jpeg_message(j_common_ptr cinfo, int level) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (level >= 0 || harmless_jpeg_warning(cinfo->err->msg_code) || errors->damaged) return;
  errors->damaged = true;
  (*cinfo->err->format_message)(cinfo, errors->message);
}

void on_jpeg_output(j_common_ptr) {}

struct JpegReader {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  bool created = false;
  JpegReader() {
    std::memset(&cinfo, 0, sizeof cinfo);
    std::memset(&errors, 0, sizeof errors);
    cinfo.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = on_jpeg_error;
    errors.manager.emit_message = on_jpeg_message;
    errors.manager.output_message = on_jpeg_output;
  }
  JpegReader(const JpegReader&) = delete;
  JpegReader& operator=(const JpegReader&) = delete;
  ~JpegReader() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

bool jpeg_start(JpegReader& r, const std::uint8_t* data, std::size_t size) {
  if (setjmp(r.errors.jump)) return false;
  jpeg_create_decompress(&r.cinfo);
  r.created = true;
  jpeg_mem_src(&r.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&r.cinfo, TRUE);
  if (r.cinfo.jpeg_color_space == JCS_CMYK || r.cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(r.errors.message, sizeof r.errors.message, "CMYK JPEG (a palm image is grey)");
    return false;
  }
  r.cinfo.out_color_space = JCS_GRAYSCALE;
  jpeg_start_decompress(&r.cinfo);
  return true;
}

bool jpeg_read_rows(JpegReader& r, std::uint8_t* pixels, std::size_t step) {
  if (setjmp(r.errors.jump)) return false;
  while (r.cinfo.output_scanline < r.cinfo.output_height) {
    JSAMPROW row = pixels + r.cinfo.output_scanline * step;
    jpeg_read_scanlines(&r.cinfo, &row, 1);
  }
  jpeg_finish_decompress(&r.cinfo);
  return true;
}

}  // namespace

bool plausible_image_size(std::uint64_t width, std::uint64_t height) {
  return width > 0 && height > 0 && width <= 65536 && height <= 65536 && width * height <= kMaxDecodedPixels;
}

cv::Mat decode_png_quietly(std::span<const std::uint8_t> bytes) {
  PngReader r;
  r.data = bytes.data();
  r.size = bytes.size();
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_png_error, on_png_warning);
  if (r.png) r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info) throw FormatError("cannot decode PNG: out of memory");
  PngShape shape;
  if (!png_start(r, shape)) throw FormatError(std::string("corrupt PNG: ") + r.message);
  if (!plausible_image_size(shape.width, shape.height))
    throw FormatError("PNG of " + std::to_string(shape.width) + "x" + std::to_string(shape.height) +
                      " pixels is larger than a palm image can be");
  if ((shape.channels != 1 && shape.channels != 3) || (shape.bit_depth != 8 && shape.bit_depth != 16))
    throw FormatError("corrupt PNG: unexpected layout after decoding");
  const int depth = shape.bit_depth == 16 ? CV_16U : CV_8U;
  cv::Mat decoded(static_cast<int>(shape.height), static_cast<int>(shape.width), CV_MAKETYPE(depth, shape.channels));
  std::vector<png_bytep> rows(shape.height);
  for (png_uint_32 y = 0; y < shape.height; ++y) rows[y] = decoded.ptr(static_cast<int>(y));
  if (!png_read_rows(r, rows.data())) throw FormatError(std::string("corrupt PNG: ") + r.message);
  if (shape.channels == 3) cv::cvtColor(decoded, decoded, cv::COLOR_RGB2GRAY);
  return decoded;
}

cv::Mat decode_jpeg_quietly(std::span<const std::uint8_t> bytes) {
  JpegReader r;
  if (!jpeg_start(r, bytes.data(), bytes.size())) throw FormatError(std::string("corrupt JPEG: ") + r.errors.message);
  if (!plausible_image_size(r.cinfo.output_width, r.cinfo.output_height))
    throw FormatError("JPEG of " + std::to_string(r.cinfo.output_width) + "x" + std::to_string(r.cinfo.output_height) +
                      " pixels is larger than a palm image can be");
  if (r.cinfo.output_components != 1) throw FormatError("corrupt JPEG: unexpected layout after decoding");
  cv::Mat decoded(static_cast<int>(r.cinfo.output_height), static_cast<int>(r.cinfo.output_width), CV_8UC1);
  if (!jpeg_read_rows(r, decoded.data, decoded.step)) throw FormatError(std::string("corrupt JPEG: ") + r.errors.message);
  if (r.errors.damaged) throw FormatError(std::string("corrupt JPEG: ") + r.errors.message);
  return decoded;
}

}  // namespace palmvein::internal
