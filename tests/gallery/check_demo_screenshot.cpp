// SPDX-License-Identifier: Apache-2.0
// Checks a palmvein-demo screenshot: the camera area is a real picture (not blank), a bright palm
// covers a plausible part of it over a dark background, and the panel below carries text.
#include <cstdio>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: check_demo_screenshot FILE.png\n");
    return 2;
  }
  const cv::Mat shot = cv::imread(argv[1], cv::IMREAD_COLOR);
  if (shot.empty()) {
    std::fprintf(stderr, "cannot read '%s'\n", argv[1]);
    return 1;
  }
  constexpr int kPanel = 96;  // apps/demo/main.cpp kPanelHeight
  if (shot.rows <= kPanel + 100 || shot.cols < 100) {
    std::fprintf(stderr, "screenshot too small: %dx%d\n", shot.cols, shot.rows);
    return 1;
  }
  cv::Mat gray;
  cv::cvtColor(shot(cv::Rect(0, 40, shot.cols, shot.rows - kPanel - 40)), gray, cv::COLOR_BGR2GRAY);
  cv::Scalar mean, stddev;
  cv::meanStdDev(gray, mean, stddev);
  const double bright = cv::countNonZero(gray > 100) / static_cast<double>(gray.total());
  cv::Mat panel;
  cv::cvtColor(shot(cv::Rect(0, shot.rows - kPanel, shot.cols, kPanel)), panel, cv::COLOR_BGR2GRAY);
  const double text = cv::countNonZero(panel > 120) / static_cast<double>(panel.total());
  std::printf("camera area: mean %.1f, stddev %.1f, bright (palm) fraction %.3f; panel text fraction %.3f\n", mean[0],
              stddev[0], bright, text);
  bool ok = true;
  if (stddev[0] < 15) ok = false, std::fprintf(stderr, "camera area is (nearly) uniform: blank window?\n");
  if (bright < 0.08 || bright > 0.9) ok = false, std::fprintf(stderr, "no palm-sized bright region\n");
  if (text < 0.005) ok = false, std::fprintf(stderr, "the panel carries no text\n");
  return ok ? 0 : 1;
}
