// SPDX-License-Identifier: Apache-2.0
// TemplateExtractor on generated images (kind=Roi): template made, deterministic, stages dumped,
// featureless input refused.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "internal/cv_bridge.hpp"
#include "palmvein/error.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein_tools/synthetic_palm.hpp"

namespace {

using palmvein::Image;
using palmvein::ImageKind;
using palmvein::TemplateExtractor;

Image palm_image(std::uint32_t palm, double dx = 0, std::uint32_t noise = 0) {
  return palmvein::internal::image_from_mat(palmvein::testing::render_palm(palm, dx, 0, 0, noise));
}

struct Recorder : palmvein::TransparencySink {
  std::set<std::string> stages;
  void take(std::string_view stage, const Image& image) override {
    EXPECT_FALSE(image.empty());
    stages.emplace(stage);
  }
};

TEST(Extractor, MakesACompactDeterministicTemplate) {
  const TemplateExtractor extractor;
  const auto a = extractor.extract(palm_image(1), ImageKind::Roi);
  ASSERT_TRUE(a.ok());
  EXPECT_LE(a.templ->serialized_size(), 2048u);
  const auto b = extractor.extract(palm_image(1), ImageKind::Roi);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a.templ->to_bytes(), b.templ->to_bytes());
}

TEST(Extractor, AnyRoiSizeAndSixteenBitInput) {
  const TemplateExtractor extractor;
  const auto ref = extractor.extract(palm_image(2), ImageKind::Roi);
  ASSERT_TRUE(ref.ok());
  // The same ROI at another resolution (the ROI stage resizes it back to 128).
  cv::Mat big_mat;
  cv::resize(palmvein::testing::render_palm(2), big_mat, cv::Size(200, 200), 0, 0, cv::INTER_CUBIC);
  const auto big = extractor.extract(palmvein::internal::image_from_mat(big_mat), ImageKind::Roi);
  ASSERT_TRUE(big.ok());
  EXPECT_GT(palmvein::match(*ref.templ, *big.templ), 0.8);
  // A 10-bit frame with the same content.
  const Image g8 = palm_image(2);
  Image g16(g8.width(), g8.height(), palmvein::PixelFormat::Gray16, 10);
  for (int y = 0; y < g8.height(); ++y)
    for (int x = 0; x < g8.width(); ++x) g16.row16(y)[x] = static_cast<std::uint16_t>(g8.row8(y)[x] * 4);
  const auto r16 = extractor.extract(g16, ImageKind::Roi);
  ASSERT_TRUE(r16.ok());
  EXPECT_GT(palmvein::match(*ref.templ, *r16.templ), 0.9);
}

TEST(Extractor, SamePalmScoresAboveOtherPalm) {
  const TemplateExtractor extractor;
  const auto a = extractor.extract(palm_image(3), ImageKind::Roi);
  const auto a2 = extractor.extract(palm_image(3, 4, 5), ImageKind::Roi);
  const auto b = extractor.extract(palm_image(4), ImageKind::Roi);
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok());
  EXPECT_GT(palmvein::match(*a.templ, *a2.templ), palmvein::match(*a.templ, *b.templ) + 0.1);
}

TEST(Extractor, TransparencyStages) {
  Recorder rec;
  const auto r = TemplateExtractor().extract(palm_image(5), ImageKind::Roi, &rec);
  ASSERT_TRUE(r.ok());
  for (const char* s : {"06-enhanced", "07-orientation-code", "08-vein-lines", "09-valid-mask"})
    EXPECT_TRUE(rec.stages.count(s)) << s;
}

TEST(Extractor, FeaturelessRoiIsAFailureToAcquire) {
  Image flat(128, 128);
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 128; ++x) flat.row8(y)[x] = 140;
  const auto r = TemplateExtractor().extract(flat, ImageKind::Roi);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.roi.failure(), palmvein::RoiFailure::None);
}

TEST(Extractor, OptionsAreChecked) {
  palmvein::ExtractorOptions o;
  o.roi.roi_size = 32;
  EXPECT_THROW(o.check(), palmvein::InvalidArgument);
  EXPECT_THROW(TemplateExtractor{o}, palmvein::InvalidArgument);
  EXPECT_THROW((void)TemplateExtractor().extract(Image{}, ImageKind::Roi), palmvein::InvalidArgument);
}

}  // namespace
