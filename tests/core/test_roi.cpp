// SPDX-License-Identifier: Apache-2.0
// RoiExtractor on generated hands (synthetic_hand.hpp): pose recovery, reason codes, passthrough,
// transparency and the overlay. No research images.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include <opencv2/imgproc.hpp>

#include "internal/cv_bridge.hpp"
#include "palmvein/error.hpp"
#include "palmvein/roi.hpp"
#include "palmvein_tools/synthetic_hand.hpp"

using namespace palmvein;
using palmvein::testing::HandPose;
using palmvein::testing::render_hand;

namespace {

Image to_image(const cv::Mat& m) { return internal::image_from_mat(m); }

cv::Point2d roi_centre(const PalmRoi& roi) {
  cv::Point2d c(0, 0);
  for (const PointF& p : roi.corners) c += cv::Point2d(p.x, p.y) * 0.25;
  return c;
}

double roi_side(const PalmRoi& roi) {
  return std::hypot(roi.corners[1].x - roi.corners[0].x, roi.corners[1].y - roi.corners[0].y);
}

// Frame point -> hand coordinates (units of R, fingers up = -y).
cv::Point2d frame_to_hand(const HandPose& pose, cv::Point2d q) {
  const double a = pose.angle * CV_PI / 180.0;
  const cv::Point2d d = (q - pose.centre) * (1.0 / pose.radius);
  return {std::cos(a) * d.x - std::sin(a) * d.y, std::sin(a) * d.x + std::cos(a) * d.y};
}

double angle_diff(double a, double b) {
  double d = std::fmod(a - b, 360.0);
  if (d > 180) d -= 360;
  if (d < -180) d += 360;
  return d;
}

struct Recording : TransparencySink {
  std::map<std::string, cv::Size> stages;
  void take(std::string_view stage, const Image& image) override {
    stages[std::string(stage)] = cv::Size(image.width(), image.height());
  }
};

}  // namespace

TEST(Roi, RecoversRotationScaleAndPositionOfASyntheticHand) {
  const RoiExtractor extractor;
  HandPose reference;
  reference.radius = 70;
  const RoiResult ref = extractor.extract(to_image(render_hand(reference)));
  ASSERT_TRUE(ref.ok()) << to_string(ref.failure());
  EXPECT_EQ(ref.roi().method, RoiMethod::FingerValleys);
  EXPECT_NEAR(ref.roi().rotation_degrees, 0, 3);
  const cv::Point2d ref_centre = frame_to_hand(reference, roi_centre(ref.roi()));
  const double ref_side = roi_side(ref.roi()) / reference.radius;
  // The square sits on the palm, below the fingers, and is about a palm wide.
  EXPECT_LT(std::abs(ref_centre.x), 0.2);
  EXPECT_GT(ref_centre.y, -0.5);
  EXPECT_LT(ref_centre.y, 0.6);
  EXPECT_GT(ref_side, 0.6);
  EXPECT_LT(ref_side, 1.6);

  int seed = 2;
  for (double angle : {25.0, -40.0, 90.0, 180.0, -120.0})
    for (double radius : {55.0, 70.0, 90.0}) {
      HandPose pose;
      pose.angle = angle;
      pose.radius = radius;
      pose.centre = {320 + (seed % 3 - 1) * 15.0, 250 + (seed % 2) * 10.0};
      const RoiResult r = extractor.extract(to_image(render_hand(pose, 640, 480, static_cast<std::uint32_t>(seed++))));
      SCOPED_TRACE("angle " + std::to_string(angle) + " radius " + std::to_string(radius));
      ASSERT_TRUE(r.ok()) << to_string(r.failure());
      const PalmRoi& roi = r.roi();
      EXPECT_EQ(roi.method, RoiMethod::FingerValleys);
      EXPECT_NEAR(angle_diff(roi.rotation_degrees, angle), 0, 4);
      const cv::Point2d c = frame_to_hand(pose, roi_centre(roi));
      EXPECT_NEAR(c.x, ref_centre.x, 0.12);
      EXPECT_NEAR(c.y, ref_centre.y, 0.12);
      EXPECT_NEAR(roi_side(roi) / radius, ref_side, 0.07 * ref_side);
      EXPECT_NEAR(roi.scale, roi_side(roi) / extractor.options().roi_size, 1e-3);
      EXPECT_EQ(roi.image.width(), 128);
      EXPECT_EQ(roi.image.height(), 128);
      EXPECT_EQ(roi.image.format(), PixelFormat::Gray8);
      EXPECT_GT(roi.quality, 0.5f);
      EXPECT_EQ(roi.key_points.size(), 3u);
      EXPECT_FALSE(roi.hand_outline.empty());
    }
}

// Normalised cross-correlation of two ROIs at zero shift.
double ncc(const Image& a, const Image& b) {
  cv::Mat fa, fb, m;
  internal::view_of(a).convertTo(fa, CV_32F);
  internal::view_of(b).convertTo(fb, CV_32F);
  cv::matchTemplate(fa, fb, m, cv::TM_CCOEFF_NORMED);
  return m.at<float>(0, 0);
}

TEST(Roi, SameHandGivesTheSameRoiAtAnyRotation) {
  // The veins move with the hand, so a rotated copy must give nearly the same ROI pixels, and
  // clearly more alike than another hand's ROI in the same pose.
  const RoiExtractor extractor;
  HandPose upright;
  upright.radius = 75;
  const RoiResult ref = extractor.extract(to_image(render_hand(upright, 640, 480, 21)));
  ASSERT_TRUE(ref.ok());
  const RoiResult other = extractor.extract(to_image(render_hand(upright, 640, 480, 22)));
  ASSERT_TRUE(other.ok());
  const double impostor = ncc(ref.roi().image, other.roi().image);
  for (double angle : {35.0, -90.0, 150.0}) {
    HandPose pose = upright;
    pose.angle = angle;
    const RoiResult r = extractor.extract(to_image(render_hand(pose, 640, 480, 21)));
    ASSERT_TRUE(r.ok());
    const double genuine = ncc(ref.roi().image, r.roi().image);
    EXPECT_GT(genuine, 0.5) << "angle " << angle;
    EXPECT_GT(genuine, impostor + 0.3) << "angle " << angle;
  }
}

TEST(Roi, MirroredHandWorksToo) {
  // A right hand is a mirrored left hand: the method must not depend on which side the thumb is.
  HandPose pose;
  pose.radius = 70;
  cv::Mat mirrored;
  cv::flip(render_hand(pose), mirrored, 1);
  const RoiResult r = RoiExtractor().extract(to_image(mirrored));
  ASSERT_TRUE(r.ok()) << to_string(r.failure());
  EXPECT_EQ(r.roi().method, RoiMethod::FingerValleys);
  EXPECT_NEAR(r.roi().rotation_degrees, 0, 3);
}

TEST(Roi, CornersAreClockwiseFromTopLeftAndTheTopFacesTheFingers) {
  HandPose pose;
  pose.radius = 70;
  const RoiResult r = RoiExtractor().extract(to_image(render_hand(pose)));
  ASSERT_TRUE(r.ok());
  const auto& k = r.roi().corners;
  // Upright hand: corner 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left.
  EXPECT_LT(k[0].x, k[1].x);
  EXPECT_LT(k[1].y, k[2].y);
  EXPECT_GT(k[2].x, k[3].x);
  EXPECT_GT(k[3].y, k[0].y);
}

// A close-up sensor frame: a large palm whose index, middle and ring fingers run out of the top
// of the frame. With `falloff`, the illumination falls off from the palm (a central LED ring) so
// that the fingers are about a third as bright as the palm's middle.
cv::Mat closeup_frame(const HandPose& pose, bool falloff, std::uint32_t seed) {
  cv::Mat frame = render_hand(pose, 640, 480, seed, 220, 12);
  if (!falloff) return frame;
  cv::Mat f;
  frame.convertTo(f, CV_32F);
  const cv::Point2d light(320, 300);
  const double sigma = 110;
  for (int y = 0; y < f.rows; ++y)
    for (int x = 0; x < f.cols; ++x) {
      const double d2 = (x - light.x) * (x - light.x) + (y - light.y) * (y - light.y);
      f.at<float>(y, x) *= static_cast<float>(0.15 + 0.85 * std::exp(-d2 / (2 * sigma * sigma)));
    }
  f.convertTo(frame, CV_8U);
  return frame;
}

TEST(Roi, CloseUpWithFingersLeavingTheFrameUsesTheValleysAndFollowsTheHand) {
  // Two failure modes of close-up sensors, alone and together: (1) the fingers leave the frame, so
  // one hull edge along the border spans all their gaps; (2) the illumination falls off, so a
  // linear threshold keeps only the lit spot. Either way the palm circle would follow the mask,
  // not the hand, and move against it between captures. The ROI must come from the valleys and
  // stay on the same part of the hand when the hand moves and turns.
  for (const bool falloff : {false, true}) {
    SCOPED_TRACE(falloff ? "illumination falls off" : "even illumination");
    HandPose reference;
    reference.radius = 130;
    reference.centre = {320, 290};
    const RoiResult ref = RoiExtractor().extract(to_image(closeup_frame(reference, falloff, 31)));
    ASSERT_TRUE(ref.ok()) << to_string(ref.failure());
    EXPECT_EQ(ref.roi().method, RoiMethod::FingerValleys);
    const cv::Point2d ref_centre = frame_to_hand(reference, roi_centre(ref.roi()));
    const double ref_side = roi_side(ref.roi()) / reference.radius;
    const struct {
      double dx, dy, angle;
    } moves[] = {{-30, 0, 0}, {30, 10, 0}, {0, -15, 6}, {-20, 10, -6}};
    std::uint32_t seed = 32;
    for (const auto& m : moves) {
      HandPose pose = reference;
      pose.centre += cv::Point2d(m.dx, m.dy);
      pose.angle = m.angle;
      const RoiResult r = RoiExtractor().extract(to_image(closeup_frame(pose, falloff, seed++)));
      ASSERT_TRUE(r.ok()) << to_string(r.failure());
      EXPECT_EQ(r.roi().method, RoiMethod::FingerValleys) << m.dx << "," << m.dy << "," << m.angle;
      const cv::Point2d c = frame_to_hand(pose, roi_centre(r.roi()));
      // In hand units (R): 0.05 R is about 5 ROI pixels at this size.
      EXPECT_LT(std::hypot(c.x - ref_centre.x, c.y - ref_centre.y), 0.05) << m.dx << "," << m.dy << "," << m.angle;
      EXPECT_NEAR(roi_side(r.roi()) / pose.radius, ref_side, 0.04 * ref_side);
      EXPECT_NEAR(angle_diff(r.roi().rotation_degrees, m.angle), 0, 3);
    }
  }
}

TEST(Roi, ClosedFingersOnACloseUpUseThePalmCircle) {
  // A large palm whose fingers leave the top of the frame: no finger gaps inside the frame.
  HandPose pose;
  pose.radius = 150;
  pose.centre = {320, 280};
  pose.fingers_spread = false;
  const RoiResult r = RoiExtractor().extract(to_image(render_hand(pose)));
  ASSERT_TRUE(r.ok()) << to_string(r.failure());
  EXPECT_EQ(r.roi().method, RoiMethod::PalmCircle);
  const cv::Point2d c = frame_to_hand(pose, roi_centre(r.roi()));
  EXPECT_LT(std::hypot(c.x, c.y), 0.35);
  EXPECT_NEAR(r.roi().rotation_degrees, 0, 5);
}

TEST(Roi, EmptyOrBlackFrameHasNoHand) {
  const RoiExtractor extractor;
  EXPECT_EQ(extractor.extract(Image()).failure(), RoiFailure::NoHand);
  const RoiFailure black = extractor.extract(Image(640, 480)).failure();
  EXPECT_TRUE(black == RoiFailure::NoHand || black == RoiFailure::TooDark) << to_string(black);
  // A dim hand, well below a usable exposure.
  HandPose pose;
  pose.radius = 70;
  EXPECT_EQ(extractor.extract(to_image(render_hand(pose, 640, 480, 3, 30, 4))).failure(), RoiFailure::TooDark);
}

TEST(Roi, NoiseWithoutAHandIsNoHand) {
  cv::Mat noise(480, 640, CV_8U);
  cv::RNG rng(5);
  rng.fill(noise, cv::RNG::NORMAL, 110, 20);
  EXPECT_EQ(RoiExtractor().extract(to_image(noise)).failure(), RoiFailure::NoHand);
}

TEST(Roi, SaturatedFrameIsTooBright) {
  cv::Mat white(480, 640, CV_8U, cv::Scalar(255));
  EXPECT_EQ(RoiExtractor().extract(to_image(white)).failure(), RoiFailure::TooBright);
  // A hand that is mostly clipped at full scale.
  HandPose pose;
  pose.radius = 70;
  EXPECT_EQ(RoiExtractor().extract(to_image(render_hand(pose, 640, 480, 4, 330))).failure(), RoiFailure::TooBright);
}

TEST(Roi, PalmShiftedOffTheBorderIsCutOff) {
  const RoiExtractor extractor;
  for (const cv::Point2d centre : {cv::Point2d(20, 250), cv::Point2d(620, 250), cv::Point2d(320, 470)}) {
    HandPose pose;
    pose.radius = 90;
    pose.centre = centre;
    const RoiResult r = extractor.extract(to_image(render_hand(pose)));
    if (r.ok()) {
      // Only a palm whose finger valleys are in the frame gives an ROI, a partial one (the palm's
      // lower half runs out of the bottom): the guidance still says to centre the palm.
      EXPECT_EQ(centre, cv::Point2d(320, 470));
      EXPECT_EQ(r.roi().assessment.advice, RoiFailure::HandCutOff);
    } else {
      EXPECT_EQ(r.failure(), RoiFailure::HandCutOff) << "centre " << centre << ": " << to_string(r.failure());
    }
  }
}

TEST(Roi, PalmCutByTheBorderWithItsValleysInTheFrameGivesTheSameRoiPartly) {
  // A close-up or a contact-free hand held off-centre: the frame's bottom cuts the palm, the finger
  // valleys are inside. The ROI sits where it sits on the whole hand (scale from the valleys alone)
  // and is black beyond the border, which the features mask as outside the palm.
  HandPose whole;
  whole.radius = 90;
  whole.centre = {320, 250};
  const RoiResult ref = RoiExtractor().extract(to_image(render_hand(whole, 640, 480, 7)));
  ASSERT_TRUE(ref.ok()) << to_string(ref.failure());
  HandPose cut = whole;
  cut.centre = {320, 465};  // the reference square (y 191-281) would end 16 px below the frame
  const RoiResult r = RoiExtractor().extract(to_image(render_hand(cut, 640, 480, 7)));
  ASSERT_TRUE(r.ok()) << to_string(r.failure());
  EXPECT_EQ(r.roi().method, RoiMethod::FingerValleys);
  const cv::Point2d a = frame_to_hand(whole, roi_centre(ref.roi())), b = frame_to_hand(cut, roi_centre(r.roi()));
  EXPECT_LT(std::hypot(a.x - b.x, a.y - b.y), 0.10);
  EXPECT_NEAR(roi_side(r.roi()), roi_side(ref.roi()), 0.10 * roi_side(ref.roi()));
  EXPECT_NEAR(angle_diff(r.roi().rotation_degrees, ref.roi().rotation_degrees), 0, 3);
  // The square reaches below the frame: its bottom rows are black, its top rows are palm.
  const Image& roi = r.roi().image;
  const std::uint8_t* bottom = roi.data() + static_cast<std::size_t>(roi.height() - 1) * roi.stride();
  const std::uint8_t* top = roi.data();
  EXPECT_EQ(*std::max_element(bottom, bottom + roi.width()), 0);
  EXPECT_GT(*std::min_element(top, top + roi.width()), 20);
  // Moved further down (half the square beyond the border) it is refused.
  cut.centre = {320, 495};
  EXPECT_EQ(RoiExtractor().extract(to_image(render_hand(cut, 640, 480, 7))).failure(), RoiFailure::HandCutOff);
}

TEST(Roi, HeavyBlurIsBlurred) {
  HandPose pose;
  pose.radius = 70;
  cv::Mat frame = render_hand(pose);
  cv::GaussianBlur(frame, frame, cv::Size(), 0.3 * pose.radius);
  EXPECT_EQ(RoiExtractor().extract(to_image(frame)).failure(), RoiFailure::Blurred);
}

TEST(Roi, TinyHandIsTooFar) {
  HandPose pose;
  pose.radius = 14;
  EXPECT_EQ(RoiExtractor().extract(to_image(render_hand(pose))).failure(), RoiFailure::TooFar);
}

TEST(Roi, RoiKindIsOnlyResized) {
  cv::Mat roi_image(150, 170, CV_8U);
  cv::RNG rng(7);
  rng.fill(roi_image, cv::RNG::UNIFORM, 60, 200);
  RoiOptions options;
  options.roi_size = 96;
  const RoiResult r = RoiExtractor(options).extract(to_image(roi_image), ImageKind::Roi);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.roi().method, RoiMethod::Passthrough);
  EXPECT_EQ(r.roi().image.width(), 96);
  EXPECT_EQ(r.roi().image.height(), 96);
  cv::Mat expected;
  cv::resize(roi_image, expected, cv::Size(96, 96), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(expected, internal::view_of(r.roi().image), cv::NORM_INF), 0);
  // 16-bit input is scaled by its significant bits first.
  Image wide(40, 40, PixelFormat::Gray16, 10);
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 40; ++x) wide.row16(y)[x] = 1023;
  const RoiResult w = RoiExtractor().extract(wide, ImageKind::Roi);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.roi().image.row8(64)[64], 255);
}

TEST(Roi, FailedResultThrowsOnAccessAndOptionsAreChecked) {
  const RoiResult failed = RoiResult::failed(RoiFailure::TooFar);
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(static_cast<bool>(failed));
  EXPECT_THROW((void)failed.roi(), Error);
  RoiOptions bad;
  bad.roi_size = 4;
  EXPECT_THROW(bad.check(), InvalidArgument);
  EXPECT_THROW(RoiExtractor{bad}, InvalidArgument);
  RoiOptions good;
  EXPECT_NO_THROW(good.check());
}

TEST(Roi, EveryFailureHasANameAndGuidance) {
  std::set<std::string_view> names;
  for (RoiFailure f : {RoiFailure::None, RoiFailure::NoHand, RoiFailure::HandCutOff, RoiFailure::TooDark,
                       RoiFailure::TooBright, RoiFailure::Blurred, RoiFailure::TooClose, RoiFailure::TooFar,
                       RoiFailure::NoKeyPoints}) {
    EXPECT_FALSE(guidance(f).empty());
    EXPECT_TRUE(names.insert(to_string(f)).second) << to_string(f);
  }
  EXPECT_EQ(to_string(RoiFailure::HandCutOff), "hand-cut-off");
  EXPECT_EQ(to_string(RoiFailure::NoHand), "no-hand");
}

TEST(Roi, StagesGoToTheSinkAndTheResultDoesNotDependOnIt) {
  HandPose pose;
  pose.radius = 70;
  const Image frame = to_image(render_hand(pose));
  Recording sink;
  const RoiResult with = RoiExtractor().extract(frame, ImageKind::FullHand, &sink);
  const RoiResult without = RoiExtractor().extract(frame);
  ASSERT_TRUE(with.ok());
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(with.roi().image, without.roi().image);
  for (const char* stage : {"01-input", "02-hand-mask", "03-contour-keypoints", "04-roi"})
    EXPECT_TRUE(sink.stages.count(stage)) << stage;
  EXPECT_EQ(sink.stages["01-input"], cv::Size(640, 480));
  EXPECT_EQ(sink.stages["04-roi"], cv::Size(128, 128));
}

TEST(Roi, GoodFrameNeedsNoAdviceAndADimOneIsToldSo) {
  HandPose pose;
  pose.radius = 70;
  const RoiResult good = RoiExtractor().extract(to_image(render_hand(pose)));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.roi().assessment.advice, RoiFailure::None);
  const RoiResult dim = RoiExtractor().extract(to_image(render_hand(pose, 640, 480, 1, 58, 6)));
  ASSERT_TRUE(dim.ok()) << to_string(dim.failure());
  EXPECT_EQ(dim.roi().assessment.advice, RoiFailure::TooDark);
  EXPECT_LT(dim.roi().quality, good.roi().quality);
}

TEST(Roi, OverlayDrawsOnACopyOfTheFrame) {
  HandPose pose;
  pose.radius = 70;
  const Image frame = to_image(render_hand(pose));
  const RoiResult r = RoiExtractor().extract(frame);
  ASSERT_TRUE(r.ok());
  const Image overlay = draw_roi_overlay(frame, r.roi());
  EXPECT_EQ(overlay.width(), frame.width());
  EXPECT_EQ(overlay.height(), frame.height());
  EXPECT_NE(overlay, frame);
  // The ROI's centre is left untouched, its corner is drawn.
  const cv::Point2d c = roi_centre(r.roi());
  EXPECT_EQ(overlay.row8(static_cast<int>(c.y))[static_cast<int>(c.x)],
            frame.row8(static_cast<int>(c.y))[static_cast<int>(c.x)]);
  EXPECT_THROW(draw_roi_overlay(Image(), r.roi()), InvalidArgument);
}

// Writes the pictures of docs/roi.md when PALMVEIN_WRITE_FIGURES names a folder (otherwise skipped):
//   PALMVEIN_WRITE_FIGURES=docs/images build/tests/core/test_roi --gtest_filter=RoiFigures.*
TEST(RoiFigures, WriteDocPictures) {
  const char* out = std::getenv("PALMVEIN_WRITE_FIGURES");
  if (!out || !*out) GTEST_SKIP() << "set PALMVEIN_WRITE_FIGURES to write the docs pictures";
  const std::string dir(out);
  const RoiExtractor extractor;
  const auto tile = [](const Image& image, cv::Size size) {
    cv::Mat m;
    cv::resize(internal::view_of(image), m, size, 0, 0, cv::INTER_AREA);
    return m;
  };
  // 1. Overlays at several poses, and a close-up that needs the palm-circle fallback.
  std::vector<HandPose> poses(4);
  poses[0].radius = 70;
  poses[1].radius = 55, poses[1].angle = 35, poses[1].centre = {300, 240};
  poses[2].radius = 85, poses[2].angle = -90, poses[2].centre = {330, 240};
  poses[3].radius = 150, poses[3].centre = {320, 280}, poses[3].fingers_spread = false;
  std::vector<cv::Mat> overlays, rois;
  for (std::size_t i = 0; i < poses.size(); ++i) {
    const Image frame = to_image(render_hand(poses[i], 640, 480, static_cast<std::uint32_t>(11)));
    const RoiResult r = extractor.extract(frame);
    ASSERT_TRUE(r.ok()) << i;
    overlays.push_back(tile(draw_roi_overlay(frame, r.roi()), cv::Size(320, 240)));
    rois.push_back(internal::view_of(r.roi().image).clone());
  }
  cv::Mat top, bottom, grid, strip;
  cv::hconcat(std::vector<cv::Mat>{overlays[0], overlays[1]}, top);
  cv::hconcat(std::vector<cv::Mat>{overlays[2], overlays[3]}, bottom);
  cv::vconcat(top, bottom, grid);
  write_image(dir + "/roi-overlays.png", to_image(grid));
  cv::hconcat(rois, strip);
  write_image(dir + "/roi-normalised.png", to_image(strip));
  // 2. The stages of one extraction, as the transparency sink receives them.
  struct Keep : TransparencySink {
    std::map<std::string, Image> images;
    void take(std::string_view stage, const Image& image) override { images[std::string(stage)] = image; }
  } keep;
  ASSERT_TRUE(extractor.extract(to_image(render_hand(poses[1], 640, 480, 11)), ImageKind::FullHand, &keep).ok());
  std::vector<cv::Mat> stages;
  for (const char* s : {"01-input", "02-hand-mask", "03-contour-keypoints"}) stages.push_back(tile(keep.images[s], {240, 180}));
  cv::Mat roi_tile(180, 180, CV_8U, cv::Scalar(0));
  tile(keep.images["04-roi"], {180, 180}).copyTo(roi_tile);
  stages.push_back(roi_tile);
  cv::Mat row;
  cv::hconcat(stages, row);
  write_image(dir + "/roi-stages.png", to_image(row));
}

TEST(Roi, OddFrameSizesGiveAResultNotACrash) {
  const RoiExtractor extractor;
  cv::RNG rng(9);
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(5, 3), cv::Size(2000, 10), cv::Size(10, 1500), cv::Size(33, 33)}) {
    cv::Mat m(size, CV_8U);
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
    const RoiResult r = extractor.extract(to_image(m));
    EXPECT_FALSE(r.ok()) << size;
    EXPECT_TRUE(extractor.extract(to_image(m), ImageKind::Roi).ok()) << size;
  }
  // A 16-bit (10 significant bits) frame of a hand works like its 8-bit version.
  HandPose pose;
  pose.radius = 70;
  const cv::Mat eight = render_hand(pose);
  cv::Mat ten;
  eight.convertTo(ten, CV_16U, 1023.0 / 255.0);
  const RoiResult r = extractor.extract(internal::image_from_mat(ten, 10));
  ASSERT_TRUE(r.ok()) << to_string(r.failure());
  EXPECT_NEAR(r.roi().rotation_degrees, 0, 3);
}
