// SPDX-License-Identifier: Apache-2.0
// palmvein synth-compare REAL_FRAME -o OUT.png: a real NIR frame beside a synthetic one of the same
// size, each with the ROI extractor's overlay and its ROI, to judge how real the synthetic frames
// look and to show that one ROI extractor serves both. The real frame is read at run time (research
// images may not be redistributed, so the picture is made here rather than kept in the repository).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "commands.hpp"
#include "palmvein/files.hpp"
#include "output_guard.hpp"
#include "palmvein/opencv.hpp"
#include "palmvein/error.hpp"
#include "palmvein/image.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/synthetic.hpp"

namespace palmvein::cli {
namespace {

struct SynthCompareOptions {
  std::string real;
  std::string out;
  std::uint64_t palm = 42;
};

// One column: the frame with its overlay, and below it the ROI (or the failure reason).
cv::Mat column(const Image& frame, const RoiExtractor& extractor, const std::string& title) {
  const RoiResult result = extractor.extract(frame, ImageKind::FullHand);
  cv::Mat shown = gray8_view(result.ok() ? draw_roi_overlay(frame, result.roi()) : frame.to_gray8()).clone();
  const int roi_side = shown.rows / 2;
  cv::Mat roi_panel(roi_side, shown.cols, CV_8UC1, cv::Scalar(0));
  if (result.ok()) {
    cv::Mat roi;
    cv::resize(gray8_view(result.roi().image), roi, cv::Size(roi_side, roi_side), 0, 0, cv::INTER_NEAREST);
    roi.copyTo(roi_panel(cv::Rect((shown.cols - roi_side) / 2, 0, roi_side, roi_side)));
  } else {
    cv::putText(roi_panel, "no ROI: " + std::string(to_string(result.failure())), {10, roi_side / 2},
                cv::FONT_HERSHEY_SIMPLEX, 0.8, cv::Scalar(255), 2);
  }
  cv::putText(shown, title, {10, 30}, cv::FONT_HERSHEY_SIMPLEX, 0.9, cv::Scalar(255), 2);
  cv::Mat col;
  cv::vconcat(shown, roi_panel, col);
  return col;
}

int run_synth_compare(const SynthCompareOptions& o) {
  check_outputs({{"--out", o.out}}, {{"real", o.real}});
  const Image real = read_image(o.real);
  const SyntheticPalm palm({o.palm, Hand::Left, 0}, real.width(), real.height());
  SyntheticFrameSettings settings;
  settings.width = real.width();
  settings.height = real.height();
  const Image synthetic = palm.render(0, settings);
  const RoiExtractor extractor;
  cv::Mat left = column(real, extractor, "real: " + std::filesystem::path(o.real).filename().string());
  cv::Mat right = column(synthetic, extractor, "synthetic: virtual:?palm=" + std::to_string(o.palm));
  cv::Mat gap(left.rows, 8, CV_8UC1, cv::Scalar(128));
  cv::Mat picture;
  cv::hconcat(std::vector<cv::Mat>{left, gap, right}, picture);
  write_image(o.out, image_from_mat(picture));
  std::printf("wrote %s (real frame %dx%d beside a synthetic one, ROI overlays and ROIs below)\n", o.out.c_str(),
              real.width(), real.height());
  return kExitOk;
}

}  // namespace

void add_synth_compare_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SynthCompareOptions>();
  CLI::App* cmd = app.add_subcommand("synth-compare", "Picture of a real NIR frame beside a synthetic one, with ROIs");
  cmd->add_option("real", options->real, "A real full-hand NIR frame (read at run time, never copied)")->required();
  cmd->add_option("-o,--out", options->out, "Output picture (.png)")->required();
  cmd->add_option("--palm", options->palm, "Synthetic palm number");
  cmd->callback([options, &exit_code] { exit_code = run_synth_compare(*options); });
}

}  // namespace palmvein::cli
