// SPDX-License-Identifier: Apache-2.0
// palmvein augment: a stress copy of a data set. Every image of a manifest is written again under a
// random, seeded change of pose and photometry of the kinds that other sensors and other ROI
// cutters bring (docs/evaluation.md, "Stress sets"): in-plane rotation, translation (fingers
// leaving the frame), scale, another crop of an ROI, contrast, gamma, blur and noise. The output is
// a data set in the same format (PNG + MANIFEST.csv with the drawn parameters as extra columns), so
// `palmvein eval` measures how much accuracy a change of conditions costs.
// Exit 0 on success, 2 on bad input; MANIFEST.csv is written last, atomically.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "commands.hpp"
#include "palmvein/evaluation.hpp"
#include "output_guard.hpp"
#include "palmvein/opencv.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/image.hpp"

namespace palmvein::cli {
namespace {

namespace fs = std::filesystem;

struct AugmentOptions {
  std::string manifest;
  std::string out;
  double rotate = 0;     // rotation drawn from [-rotate, rotate] degrees
  double shift = 0;      // translation drawn from [-shift, shift] x frame size, each axis
  double scale = 1;      // zoom drawn log-uniformly from [1/scale, scale]
  double crop = 0;       // ROI images: a sub-square of side 1 - [0, crop], placed at random, resized back
  double contrast = 1;   // contrast factor about the mean, log-uniform in [1/contrast, contrast]
  double gamma = 1;      // gamma, log-uniform in [1/gamma, gamma]
  double blur = 0;       // Gaussian blur sigma drawn from [0, blur] pixels of the output
  double noise = 0;      // additive Gaussian noise sd, grey levels
  std::uint64_t seed = 1;
};

struct Drawn {
  double angle = 0, dx = 0, dy = 0, zoom = 1, crop = 0, cx = 0.5, cy = 0.5, contrast = 1, gamma = 1, blur = 0;
};

double log_uniform(std::mt19937_64& rng, double limit) {
  if (limit <= 1) return 1;
  std::uniform_real_distribution<double> u(-std::log(limit), std::log(limit));
  return std::exp(u(rng));
}

double symmetric(std::mt19937_64& rng, double limit) {
  if (limit <= 0) return 0;
  return std::uniform_real_distribution<double>(-limit, limit)(rng);
}

cv::Mat augment(const cv::Mat& in, bool roi, const Drawn& d, double noise, std::mt19937_64& rng) {
  cv::Mat img = in;
  if (roi && d.crop > 0) {  // another cutter's square: smaller, elsewhere in the same ROI
    const double side = (1 - d.crop) * std::min(in.cols, in.rows);
    const double x0 = d.cx * (in.cols - side), y0 = d.cy * (in.rows - side);
    cv::Mat cropped;
    cv::getRectSubPix(in, cv::Size(static_cast<int>(side), static_cast<int>(side)),
                      cv::Point2f(static_cast<float>(x0 + side / 2), static_cast<float>(y0 + side / 2)), cropped);
    cv::resize(cropped, img, in.size(), 0, 0, cv::INTER_LINEAR);
  }
  if (d.angle != 0 || d.dx != 0 || d.dy != 0 || d.zoom != 1) {
    const cv::Point2f centre(static_cast<float>(img.cols) / 2.f, static_cast<float>(img.rows) / 2.f);
    cv::Mat m = cv::getRotationMatrix2D(centre, d.angle, d.zoom);
    m.at<double>(0, 2) += d.dx * img.cols;
    m.at<double>(1, 2) += d.dy * img.rows;
    cv::Mat warped;
    // Full frames: the sensor's dark background comes in; ROIs: the border is replicated (a cutter
    // never delivers black corners).
    cv::warpAffine(img, warped, m, img.size(), cv::INTER_LINEAR, roi ? cv::BORDER_REFLECT : cv::BORDER_CONSTANT,
                   cv::Scalar(0));
    img = warped;
  }
  cv::Mat f;
  img.convertTo(f, CV_32F, 1.0 / 255);
  if (d.contrast != 1) {
    const double mean = cv::mean(f)[0];
    f = (f - mean) * d.contrast + mean;
  }
  if (d.gamma != 1) {
    cv::max(f, 0, f);
    cv::pow(f, d.gamma, f);
  }
  if (d.blur > 0.05) cv::GaussianBlur(f, f, cv::Size(), d.blur);
  if (noise > 0) {
    cv::Mat n(f.size(), CV_32F);
    cv::randn(n, 0, noise / 255.0);
    cv::theRNG().state = rng();
    f += n;
  }
  cv::Mat out;
  f.convertTo(out, CV_8U, 255);
  return out;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

int run_augment(const AugmentOptions& o) {
  if (o.rotate < 0 || o.rotate > 180) throw InvalidArgument("--rotate must be 0..180 degrees");
  if (o.shift < 0 || o.shift > 0.5) throw InvalidArgument("--shift must be 0..0.5 (a fraction of the frame)");
  if (o.scale < 1 || o.scale > 2) throw InvalidArgument("--scale must be 1..2");
  if (o.crop < 0 || o.crop > 0.5) throw InvalidArgument("--crop must be 0..0.5");
  if (o.contrast < 1 || o.contrast > 4 || o.gamma < 1 || o.gamma > 4)
    throw InvalidArgument("--contrast and --gamma must be 1..4");
  if (o.blur < 0 || o.blur > 10 || o.noise < 0 || o.noise > 64) throw InvalidArgument("--blur must be 0..10, --noise 0..64");
  const Manifest manifest = Manifest::load(o.manifest);
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out)) throw IoError("cannot create output folder '" + o.out + "'");
  {
    const fs::path source_folder = fs::path(o.manifest).parent_path();
    check_outputs({{"--out", o.out}}, {{"the manifest's folder", source_folder.empty() ? fs::path(".") : source_folder}});
  }

  ManifestWriter rows({"path", "subject", "hand", "session", "kind", "aug_angle", "aug_dx", "aug_dy", "aug_zoom",
                                 "aug_crop", "aug_contrast", "aug_gamma", "aug_blur"});
  for (std::size_t i = 0; i < manifest.size(); ++i) {
    const ManifestEntry& e = manifest.entries()[i];
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + i);
    Drawn d;
    d.angle = symmetric(rng, o.rotate);
    d.dx = symmetric(rng, o.shift);
    d.dy = symmetric(rng, o.shift);
    d.zoom = log_uniform(rng, o.scale);
    d.crop = o.crop > 0 ? std::uniform_real_distribution<double>(0, o.crop)(rng) : 0;
    d.cx = std::uniform_real_distribution<double>(0, 1)(rng);
    d.cy = std::uniform_real_distribution<double>(0, 1)(rng);
    d.contrast = log_uniform(rng, o.contrast);
    d.gamma = log_uniform(rng, o.gamma);
    d.blur = o.blur > 0 ? std::uniform_real_distribution<double>(0, o.blur)(rng) : 0;
    const bool roi = e.kind == ImageKind::Roi;
    const Image source = read_image(manifest.image_path(i));
    const cv::Mat img = gray8_view(source);
    const std::string name = "aug_" + std::to_string(i) + ".png";
    write_image(fs::path(o.out) / name, image_from_mat(augment(img, roi, d, o.noise, rng)));
    rows.row({name, e.subject, manifest_hand_text(e.hand), e.session, manifest_kind_text(e.kind),
              fmt(d.angle), fmt(d.dx), fmt(d.dy), fmt(d.zoom), fmt(d.crop), fmt(d.contrast), fmt(d.gamma), fmt(d.blur)});
  }
  rows.save(fs::path(o.out) / "MANIFEST.csv");
  std::printf("wrote %zu augmented images and MANIFEST.csv to %s\n", manifest.size(), o.out.c_str());
  return kExitOk;
}

}  // namespace

void add_augment_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<AugmentOptions>();
  CLI::App* cmd = app.add_subcommand("augment", "Write a seeded stress copy of a data set (pose and photometry changed)");
  cmd->add_option("--manifest", options->manifest, "MANIFEST.csv of the data set")->required();
  cmd->add_option("--out", options->out, "Output folder (created)")->required();
  cmd->add_option("--rotate", options->rotate, "In-plane rotation drawn from +-DEG degrees");
  cmd->add_option("--shift", options->shift, "Translation drawn from +-FRAC of the frame, each axis");
  cmd->add_option("--scale", options->scale, "Zoom drawn from [1/S, S]");
  cmd->add_option("--crop", options->crop, "ROI images: a square smaller by up to FRAC, placed at random, resized back");
  cmd->add_option("--contrast", options->contrast, "Contrast factor drawn from [1/C, C]");
  cmd->add_option("--gamma", options->gamma, "Gamma drawn from [1/G, G]");
  cmd->add_option("--blur", options->blur, "Gaussian blur sigma drawn from [0, SIGMA] pixels");
  cmd->add_option("--noise", options->noise, "Additive Gaussian noise, grey levels (sd)");
  cmd->add_option("--seed", options->seed, "Seed: the same seed gives the same images");
  cmd->callback([options, &exit_code] { exit_code = run_augment(*options); });
}

}  // namespace palmvein::cli
