// SPDX-License-Identifier: Apache-2.0
// The synthetic NIR palm renderer (see palmvein/synthetic.hpp and docs/sensors.md).
//
// Model, per identity (built once):
//   * hand shape in "canonical units" (1 unit = 1 pixel of a 640x480 frame at nominal distance), fingers
//     pointing up, palm centre at the origin, left-hand layout (a right hand is mirrored at render time);
//   * a vein network grown by space colonisation (Runions et al. 2007) from roots at the wrist and the
//     palm sides, widths from a pipe model (Murray's law, r^2.4 = sum of the children's r^2.4), drawn
//     as anti-aliased lines into a sharp (superficial) and a blurred (deep) layer;
//   * palm creases (three principal lines and minor ones) and multi-octave skin texture;
//   * all of it rasterised once as a transmittance map T (1 = no absorption).
// Per capture (seeded by the capture index): a homography (rotation, scale, translation, tilt), finger
// spread, exposure jitter, blur and noise. The frame is
//   v = E * (m * albedo * shade * T(H^-1 x) * light + (1 - m) * background) + noise,
// with m the anti-aliased hand mask, shade the soft falloff towards the hand's edges (a thick rounded
// object scatters less light back near its silhouette), light the LED falloff and vignetting.
#include "palmvein/synthetic.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "palmvein/error.hpp"

namespace palmvein {
inline namespace v1 {
namespace {

// ---- All tuning constants of the renderer --------------------------------------------------------
namespace tune {
constexpr double kRefWidth = 640, kRefHeight = 480;  // frame size at which 1 canonical unit = 1 px
// Hand geometry (canonical units) and its spread between people.
constexpr double kPalmWidth = 205, kPalmWidthJitter = 0.08;
constexpr double kPalmAspectMin = 0.98, kPalmAspectMax = 1.12;  // palm length / width
constexpr double kPalmSuperellipse = 2.7;                        // exponent of the palm outline
constexpr double kMiddleFingerMin = 0.78, kMiddleFingerMax = 0.92;  // middle finger / palm length
constexpr std::array<double, 5> kFingerLength = {0.7, 0.89, 1.0, 0.93, 0.74};   // thumb..little / middle
constexpr std::array<double, 5> kFingerWidth = {0.36, 0.235, 0.245, 0.225, 0.195};  // / palm width
constexpr std::array<double, 5> kFingerAngle = {-55, -10, -2, 6, 14};  // degrees from "up", clockwise
constexpr double kFingerAngleJitter = 3;                               // degrees between people
constexpr double kMinFingerGapDeg = 6;                                 // open hand: least divergence of neighbours
constexpr double kFocal = 750;  // canonical units; sets the strength of the perspective for a tilt
// Placement in the frame: the palm centre sits here (fractions of width/height); fingers point left.
constexpr double kCentreX = 0.6, kCentreY = 0.5, kBaseRotationDeg = -90;
// Veins.
constexpr int kAttractorsMin = 330, kAttractorsMax = 460;
constexpr double kInfluence = 0.55;     // attractor influence radius / palm width
constexpr double kKill = 0.045;         // attractor kill distance / palm width
constexpr double kStep = 0.022;         // growth step / palm width
constexpr double kGrowthJitter = 0.35;  // random direction noise per step (organic curvature)
constexpr int kMaxIterations = 400;
constexpr double kTipRadius = 0.9, kMaxRadius = 4.0;  // vessel radius (canonical units)
constexpr double kMurrayExponent = 2.4;
constexpr int kMinLeavesDrawn = 2;  // thinner twigs are invisible in NIR
constexpr double kDeepFraction = 0.35;  // share of vessel segments that lie deeper (blurrier, fainter)
constexpr double kSharpBlur = 1.3, kDeepBlur = 2.8, kDeepWeight = 0.7;
constexpr double kVeinStrengthMin = 0.17, kVeinStrengthMax = 0.26;  // relative darkening of a vein
// Skin.
constexpr double kCreaseStrength = 0.07, kMinorCreases = 9;
constexpr std::array<double, 3> kTextureCells = {5, 18, 70};         // cells across the raster
constexpr std::array<double, 3> kTextureAmplitude = {0.05, 0.03, 0.018};
constexpr double kAlbedo = 0.5, kAlbedoJitter = 0.12;
constexpr double kShadeSigma = 0.07;     // edge falloff blur / palm width
constexpr double kShadeFloor = 0.22, kShadeGamma = 0.7;
// Sensor.
constexpr double kReferenceExposureUs = 4000;
constexpr double kBank850Efficiency = 0.9, kBank940Efficiency = 1.0, kAmbient = 0.02;
constexpr double k850VeinBoost = 1.2, k850CreaseBoost = 1.8;  // shorter NIR: shallower, more surface detail
constexpr double kLightFalloff = 0.32;   // (1 + f r^2)^-2 over the half diagonal: LED falloff + cos^4 vignette
constexpr double kBackground = 0.045, kBackgroundTexture = 0.03;
constexpr double kReadNoise = 1.0, kShotNoise = 0.03;  // grey levels: sd = sqrt(read^2 g^2 + shot v g)
}  // namespace tune

constexpr double kPi = std::numbers::pi;

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
std::uint64_t mix(std::uint64_t a, std::uint64_t b) { return splitmix(a ^ splitmix(b + 0x632BE59BD9B4E019ull)); }

// A small, portable random generator (std distributions differ between standard libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(splitmix(seed)) {}
  std::uint64_t next() { return splitmix(state_ += 0x9E3779B97F4A7C15ull); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  double normal() {
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * kPi * u2);
  }
  double normal(double sd, double clip) { return std::clamp(normal(), -clip, clip) * sd; }

 private:
  std::uint64_t state_;
};

struct Finger {
  cv::Point2d base;
  double angle_deg = 0;
  double length = 0;
  double width = 0;
  double tip_ratio = 0.86;  // tip width / base width
};

std::vector<cv::Point2d> capsule(const Finger& f, double angle_deg, double inset) {
  const double a = angle_deg * kPi / 180;
  const cv::Point2d d(std::sin(a), -std::cos(a)), n(std::cos(a), std::sin(a));
  const double tip_w = f.width * f.tip_ratio;
  const cv::Point2d s = f.base - d * inset;
  const cv::Point2d t = f.base + d * (f.length - tip_w / 2);
  std::vector<cv::Point2d> pts;
  pts.push_back(s - n * (f.width / 2));
  pts.push_back(f.base - n * (f.width / 2));
  pts.push_back(t - n * (tip_w / 2));
  for (int i = 1; i < 12; ++i) {  // round tip
    const double phi = kPi * i / 12;
    pts.push_back(t - n * (tip_w / 2 * std::cos(phi)) + d * (tip_w / 2 * std::sin(phi)));
  }
  pts.push_back(t + n * (tip_w / 2));
  pts.push_back(f.base + n * (f.width / 2));
  pts.push_back(s + n * (f.width / 2));
  return pts;
}

std::vector<cv::Point2d> superellipse(double a, double b, double e, cv::Point2d c, int n = 72) {
  std::vector<cv::Point2d> pts;
  for (int i = 0; i < n; ++i) {
    const double t = 2 * kPi * i / n, ct = std::cos(t), st = std::sin(t);
    pts.emplace_back(c.x + a * std::copysign(std::pow(std::abs(ct), 2 / e), ct),
                     c.y + b * std::copysign(std::pow(std::abs(st), 2 / e), st));
  }
  return pts;
}

cv::Mat smooth_noise(Rng& rng, cv::Size size, double cells) {
  const int cw = std::max(2, static_cast<int>(cells) + 3);
  const int ch = std::max(2, static_cast<int>(cells * size.height / std::max(1, size.width)) + 3);
  cv::Mat small(ch, cw, CV_32F);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) small.at<float>(y, x) = static_cast<float>(rng.normal());
  cv::Mat big;
  cv::resize(small, big, size, 0, 0, cv::INTER_CUBIC);
  return big;
}

struct VeinNode {
  cv::Point2d p;
  int parent = -1;
  int children = 0;
  int leaves = 0;
  bool deep = false;
};

// The hand's part of the random seeds: its letter's code ('L' = 76, 'R' = 82), as when the id held a
// char, so that every synthetic palm (and the golden files drawn from them) stays the same.
std::uint64_t hand_seed(Hand hand) { return static_cast<unsigned char>(to_string(hand)[0]); }

}  // namespace

void SyntheticPalmId::check() const {
  if (hand != Hand::Left && hand != Hand::Right)
    throw InvalidArgument("synthetic palm: hand must be L or R, not '" + std::string(to_string(hand)) + "'");
}

void SyntheticVariation::check() const {
  auto in = [](double v, double hi, const char* name) {
    if (!(v >= 0 && v <= hi))
      throw InvalidArgument(std::string("synthetic variation: ") + name + " must be in 0.." + std::to_string(hi));
  };
  in(translate, 0.3, "translate");
  in(scale, 0.5, "scale");
  in(rotate_deg, 45, "rotate_deg");
  in(tilt_deg, 30, "tilt_deg");
  in(spread, 1, "spread");
  in(exposure, 1, "exposure");
  in(blur_max, 10, "blur_max");
  in(noise, 20, "noise");
}

void SyntheticFrameSettings::check() const {
  if (width < 64 || height < 48 || width > 8192 || height > 8192)
    throw InvalidArgument("synthetic frame: size " + std::to_string(width) + "x" + std::to_string(height) +
                          " is outside 64x48..8192x8192");
  if (!(std::abs(rotate_deg) <= 360)) throw InvalidArgument("synthetic frame: rotate_deg must be in -360..360");
  if (exposure_us < kSyntheticExposureMinUs || exposure_us > kSyntheticExposureMaxUs)
    throw InvalidArgument("synthetic frame: exposure_us must be in " + std::to_string(kSyntheticExposureMinUs) + ".." +
                          std::to_string(kSyntheticExposureMaxUs));
  if (!(gain >= 1 && gain <= 16)) throw InvalidArgument("synthetic frame: gain must be in 1..16");
  for (int level : {illumination_850, illumination_940})
    if (level < 0 || level >= kSyntheticIlluminationLevels)
      throw InvalidArgument("synthetic frame: illumination levels must be in 0.." +
                            std::to_string(kSyntheticIlluminationLevels - 1));
  variation.check();
}

struct SyntheticPalm::Model {
  SyntheticPalmId id;
  int width = 0, height = 0;
  double k = 1;  // frame pixels per canonical unit at nominal distance
  double palm_w = 0, palm_l = 0, albedo = 0, vein_strength = 0;
  std::vector<cv::Point2d> palm_outline, thenar, wrist;
  std::array<Finger, 5> fingers{};
  cv::Mat veins, creases, texture;  // CV_32F rasters in canonical layout (0..1 absorption / relative)
  cv::Mat skin940, skin850;         // transmittance under each LED bank (veins, creases, texture)
  std::array<float, 1025> shade_lut{};  // soft edge falloff as a function of the blurred mask
  cv::Point2d origin;               // raster pixel of the canonical origin
  cv::Mat light;                    // CV_32F frame-size LED falloff and vignetting
  cv::Mat background;               // CV_32F frame-size background reflectance

  void build_shape(Rng& rng);
  void build_veins(Rng& rng);
  void build_skin(Rng& rng);
  void build_sensor();
  bool inside_palm(cv::Point2d p) const;
};

bool SyntheticPalm::Model::inside_palm(cv::Point2d p) const {
  const double x = std::abs(p.x) / (palm_w / 2), y = std::abs(p.y) / (palm_l / 2);
  return std::pow(x, tune::kPalmSuperellipse) + std::pow(y, tune::kPalmSuperellipse) <= 1;
}

void SyntheticPalm::Model::build_shape(Rng& rng) {
  palm_w = tune::kPalmWidth * std::exp(rng.normal(tune::kPalmWidthJitter, 2.5));
  palm_l = palm_w * rng.uniform(tune::kPalmAspectMin, tune::kPalmAspectMax);
  const double middle = palm_l * rng.uniform(tune::kMiddleFingerMin, tune::kMiddleFingerMax);
  palm_outline = superellipse(palm_w / 2, palm_l / 2, tune::kPalmSuperellipse, {0, 0});
  thenar = superellipse(palm_w * 0.24, palm_l * 0.36, 2.0, {-palm_w * 0.30, palm_l * 0.16});
  wrist = {{-palm_w * 0.47, palm_l * 0.05}, {palm_w * 0.47, palm_l * 0.05}, {palm_w * 0.41, palm_l * 0.62},
           {palm_w * 0.44, palm_l * 4.0},    {-palm_w * 0.44, palm_l * 4.0},  {-palm_w * 0.41, palm_l * 0.62}};
  for (int i = 0; i < 5; ++i) {
    Finger& f = fingers[i];
    f.length = middle * tune::kFingerLength[i] * rng.uniform(0.96, 1.04);
    f.width = palm_w * tune::kFingerWidth[i] * rng.uniform(0.94, 1.05);
    f.angle_deg = tune::kFingerAngle[i] + rng.normal(tune::kFingerAngleJitter, 2);
  }
  // An open hand (as sensors instruct): neighbouring fingers diverge by at least kMinFingerGapDeg.
  for (int i = 2; i < 5; ++i)
    fingers[i].angle_deg = std::max(fingers[i].angle_deg, fingers[i - 1].angle_deg + tune::kMinFingerGapDeg);
  // Fingers 1..4 sit side by side along the top of the palm; the little finger a bit lower.
  double total = 0;
  for (int i = 1; i < 5; ++i) total += fingers[i].width;
  const double gap = palm_w * 0.03;  // fingers never quite touch at their base: the valleys stay open
  double x = -(total + 3 * gap) / 2 + palm_w * 0.01;
  for (int i = 1; i < 5; ++i) {
    const double cx = x + fingers[i].width / 2;
    const double edge = palm_l / 2 * std::pow(std::max(0.0, 1 - std::pow(std::abs(cx) / (palm_w / 2), tune::kPalmSuperellipse)),
                                              1 / tune::kPalmSuperellipse);
    fingers[i].base = {cx, -edge + (i == 4 ? palm_l * 0.05 : 0.0)};
    x += fingers[i].width + gap;
  }
  fingers[0].base = {-palm_w * 0.45, palm_l * 0.2};
  fingers[0].tip_ratio = 0.72;
}

void SyntheticPalm::Model::build_veins(Rng& rng) {
  using tune::kStep;
  const double step = kStep * palm_w, kill = tune::kKill * palm_w, influence = tune::kInfluence * palm_w;
  // Attractors: the palm and the upper wrist (where the veins of the palm drain).
  std::vector<cv::Point2d> attractors;
  const int count = static_cast<int>(rng.uniform(tune::kAttractorsMin, tune::kAttractorsMax));
  while (static_cast<int>(attractors.size()) < count) {
    const cv::Point2d p(rng.uniform(-0.5, 0.5) * palm_w, rng.uniform(-0.5, 0.85) * palm_l);
    const cv::Point2d q(p.x / 0.94, p.y / 0.94);
    if (inside_palm(q) || (p.y > 0 && p.y < palm_l * 0.7 && std::abs(p.x) < palm_w * 0.38)) attractors.push_back(p);
  }
  std::vector<VeinNode> nodes;
  const int wrist_roots = rng.uniform() < 0.5 ? 2 : 3;
  for (int i = 0; i < wrist_roots; ++i)
    nodes.push_back({{(i - (wrist_roots - 1) / 2.0) * palm_w * 0.26 + rng.normal(palm_w * 0.04, 2), palm_l * 0.75}, -1});
  const int side_roots = 1 + static_cast<int>(rng.uniform() * 2.5);
  for (int i = 0; i < side_roots; ++i) {
    const double side = rng.uniform() < 0.5 ? -1 : 1;
    nodes.push_back({{side * palm_w * 0.49, rng.uniform(-0.3, 0.3) * palm_l}, -1});
  }
  std::vector<int> closest(attractors.size(), -1);
  std::vector<double> closest_d(attractors.size(), 1e30);
  std::vector<char> alive(attractors.size(), 1);
  std::size_t checked = 0;  // nodes [0, checked) are already folded into `closest`
  for (int iter = 0; iter < tune::kMaxIterations; ++iter) {
    for (std::size_t a = 0; a < attractors.size(); ++a) {
      if (!alive[a]) continue;
      for (std::size_t n = checked; n < nodes.size(); ++n) {
        const double d = cv::norm(attractors[a] - nodes[n].p);
        if (d < kill) {
          alive[a] = 0;
          break;
        }
        if (d < closest_d[a]) closest_d[a] = d, closest[a] = static_cast<int>(n);
      }
    }
    checked = nodes.size();
    std::vector<cv::Point2d> pull(nodes.size(), {0, 0});
    std::vector<int> pulled(nodes.size(), 0);
    for (std::size_t a = 0; a < attractors.size(); ++a) {
      if (!alive[a] || closest[a] < 0 || closest_d[a] > influence) continue;
      const cv::Point2d d = attractors[a] - nodes[closest[a]].p;
      pull[closest[a]] += d / std::max(1e-9, cv::norm(d));
      ++pulled[closest[a]];
    }
    bool grew = false;
    const std::size_t existing = nodes.size();
    for (std::size_t n = 0; n < existing; ++n) {
      if (!pulled[n] || nodes[n].children >= 3) continue;
      cv::Point2d dir = pull[n] / std::max(1e-9, cv::norm(pull[n]));
      dir += cv::Point2d(rng.normal(tune::kGrowthJitter, 3), rng.normal(tune::kGrowthJitter, 3));
      const double len = cv::norm(dir);
      if (len < 1e-6) continue;
      nodes.push_back({nodes[n].p + dir * (step / len), static_cast<int>(n)});
      ++nodes[n].children;
      grew = true;
    }
    if (!grew) break;
  }
  // Leaf counts (children always come after their parent) and deep segments.
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    if (it->leaves == 0) it->leaves = 1;
    if (it->parent >= 0) nodes[it->parent].leaves += it->leaves;
  }
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    const int parent = nodes[n].parent;
    const bool new_segment = parent < 0 || nodes[parent].children > 1;
    nodes[n].deep = new_segment ? rng.uniform() < tune::kDeepFraction : nodes[parent].deep;
  }
  // Laplacian smoothing of chains: vessel paths are smooth curves.
  for (int pass = 0; pass < 4; ++pass) {
    std::vector<cv::Point2d> sum(nodes.size(), {0, 0});
    std::vector<int> cnt(nodes.size(), 0);
    for (std::size_t n = 0; n < nodes.size(); ++n)
      if (nodes[n].parent >= 0) sum[nodes[n].parent] += nodes[n].p, ++cnt[nodes[n].parent];
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      if (nodes[n].parent < 0 || cnt[n] != 1) continue;
      nodes[n].p = nodes[n].p * 0.5 + (nodes[nodes[n].parent].p + sum[n]) * 0.25;
    }
  }
  // Draw at 2x, thin vessels first so that thick ones lie on top.
  const int ss = 2;
  cv::Mat sharp = cv::Mat::zeros(veins.rows * ss, veins.cols * ss, CV_8U), deep = sharp.clone();
  std::vector<std::size_t> order;
  for (std::size_t n = 0; n < nodes.size(); ++n)
    if (nodes[n].parent >= 0 && nodes[n].leaves >= tune::kMinLeavesDrawn) order.push_back(n);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return nodes[a].leaves < nodes[b].leaves; });
  const double r_cap = tune::kMaxRadius;
  auto to_px = [&](cv::Point2d p) { return cv::Point((origin + p * k) * (ss * 16.0)); };
  for (std::size_t n : order) {
    const double r = std::min(r_cap, tune::kTipRadius * std::pow(nodes[n].leaves, 1 / tune::kMurrayExponent));
    const int thickness = std::max(1, static_cast<int>(std::lround(2 * r * k * ss)));
    const double contrast = std::min(1.0, 0.45 + 0.55 * r / r_cap);
    cv::line(nodes[n].deep ? deep : sharp, to_px(nodes[nodes[n].parent].p), to_px(nodes[n].p),
             cv::Scalar(255 * contrast), thickness, cv::LINE_AA, 4);
  }
  cv::Mat a, b;
  cv::resize(sharp, a, veins.size(), 0, 0, cv::INTER_AREA);
  cv::resize(deep, b, veins.size(), 0, 0, cv::INTER_AREA);
  a.convertTo(a, CV_32F, 1 / 255.0);
  b.convertTo(b, CV_32F, 1 / 255.0);
  cv::GaussianBlur(a, a, {0, 0}, tune::kSharpBlur * k);
  cv::GaussianBlur(b, b, {0, 0}, tune::kDeepBlur * k);
  veins = cv::min(a + b * tune::kDeepWeight, 1.0);
}

void SyntheticPalm::Model::build_skin(Rng& rng) {
  // Creases: heart, head and life lines as quadratic curves, then minor random creases.
  cv::Mat c = cv::Mat::zeros(creases.size(), CV_8U);
  auto draw_curve = [&](cv::Point2d p0, cv::Point2d p1, cv::Point2d p2, double strength, double width) {
    std::vector<cv::Point> pts;
    for (int i = 0; i <= 24; ++i) {
      const double t = i / 24.0;
      const cv::Point2d q = p0 * ((1 - t) * (1 - t)) + p1 * (2 * t * (1 - t)) + p2 * (t * t);
      pts.push_back(cv::Point((origin + q * k) * 16.0));
    }
    cv::polylines(c, pts, false, cv::Scalar(255 * strength), std::max(1, static_cast<int>(std::lround(width * k))),
                  cv::LINE_AA, 4);
  };
  const double w = palm_w, l = palm_l;
  auto j = [&](double s) { return rng.normal(s, 2); };
  draw_curve({w * 0.5, -l * 0.22 + j(l * 0.04)}, {w * 0.05, -l * 0.30 + j(l * 0.05)}, {-w * 0.28 + j(w * 0.05), -l * 0.47}, 1, 1.6);
  draw_curve({-w * 0.5, -l * 0.15 + j(l * 0.04)}, {-w * 0.05, -l * 0.12 + j(l * 0.05)}, {w * 0.42 + j(w * 0.05), l * 0.02 + j(l * 0.06)}, 0.9, 1.6);
  draw_curve({-w * 0.46, -l * 0.12 + j(l * 0.03)}, {-w * 0.06 + j(w * 0.05), l * 0.05}, {-w * 0.12 + j(w * 0.06), l * 0.48}, 1, 1.8);
  for (int i = 0; i < static_cast<int>(tune::kMinorCreases); ++i) {
    const cv::Point2d p(rng.uniform(-0.4, 0.4) * w, rng.uniform(-0.4, 0.4) * l);
    const double ang = rng.uniform(0, kPi), len = rng.uniform(0.08, 0.25) * w;
    const cv::Point2d d(std::cos(ang) * len / 2, std::sin(ang) * len / 2);
    draw_curve(p - d, p + cv::Point2d(rng.normal(len * 0.15, 2), rng.normal(len * 0.15, 2)), p + d,
               rng.uniform(0.3, 0.7), 1);
  }
  c.convertTo(creases, CV_32F, 1 / 255.0);
  cv::GaussianBlur(creases, creases, {0, 0}, 0.7 * k);
  texture = cv::Mat::zeros(creases.size(), CV_32F);
  for (std::size_t i = 0; i < tune::kTextureCells.size(); ++i)
    texture += smooth_noise(rng, texture.size(), tune::kTextureCells[i]) * tune::kTextureAmplitude[i];
}

void SyntheticPalm::Model::build_sensor() {
  // LED falloff and vignetting; the background is a dark, textured enclosure (same for every palm of
  // a data-set seed: it is the device, not the person).
  light.create(height, width, CV_32F);
  const double cx = width * 0.5, cy = height * 0.48, half_diag = std::hypot(width, height) / 2;
  for (int y = 0; y < height; ++y) {
    float* row = light.ptr<float>(y);
    for (int x = 0; x < width; ++x) {
      const double r2 = (std::pow(x - cx, 2) + std::pow(y - cy, 2)) / (half_diag * half_diag);
      row[x] = static_cast<float>(1 / std::pow(1 + tune::kLightFalloff * r2, 2));
    }
  }
  Rng rng(mix(id.seed, 0xB4C6));
  background = smooth_noise(rng, light.size(), 6) * tune::kBackgroundTexture + tune::kBackground;
  background = cv::max(background, 0.005);
  background = background.mul(light);
}

SyntheticPalm::SyntheticPalm(SyntheticPalmId id, int width, int height) : model_(std::make_unique<Model>()) {
  id.check();
  SyntheticFrameSettings probe;
  probe.width = width;
  probe.height = height;
  probe.check();
  Model& m = *model_;
  m.id = id;
  m.width = width;
  m.height = height;
  m.k = std::min(width / tune::kRefWidth, height / tune::kRefHeight);
  Rng rng(mix(mix(id.seed, id.palm), hand_seed(id.hand)));
  m.build_shape(rng);
  m.albedo = tune::kAlbedo * std::exp(rng.normal(tune::kAlbedoJitter / 2, 2));
  m.vein_strength = rng.uniform(tune::kVeinStrengthMin, tune::kVeinStrengthMax);
  // The raster covers palm, fingers and the start of the wrist.
  const double left = -m.palm_w * 1.6, right = m.palm_w * 1.6;
  const double top = -m.palm_l / 2 - m.fingers[2].length * 1.15, bottom = m.palm_l * 1.4;
  m.origin = {-left * m.k, -top * m.k};
  const cv::Size raster(static_cast<int>((right - left) * m.k), static_cast<int>((bottom - top) * m.k));
  m.veins.create(raster, CV_32F);
  m.creases.create(raster, CV_32F);
  m.build_veins(rng);
  m.build_skin(rng);
  m.build_sensor();
  auto skin = [&](double vein_boost, double crease_boost) {
    cv::Mat t = (1 - m.veins * (m.vein_strength * vein_boost)).mul(1 - m.creases * (tune::kCreaseStrength * crease_boost));
    return cv::Mat(t + m.texture);
  };
  m.skin940 = skin(1, 1);
  m.skin850 = skin(tune::k850VeinBoost, tune::k850CreaseBoost);
  for (std::size_t i = 0; i < m.shade_lut.size(); ++i)
    m.shade_lut[i] = static_cast<float>(tune::kShadeFloor + (1 - tune::kShadeFloor) *
                                                                std::pow(i / double(m.shade_lut.size() - 1), tune::kShadeGamma));
}

SyntheticPalm::~SyntheticPalm() = default;
SyntheticPalm::SyntheticPalm(SyntheticPalm&&) noexcept = default;
SyntheticPalm& SyntheticPalm::operator=(SyntheticPalm&&) noexcept = default;
const SyntheticPalmId& SyntheticPalm::id() const noexcept { return model_->id; }

Image SyntheticPalm::render(std::uint64_t capture_index, const SyntheticFrameSettings& s) const {
  s.check();
  const Model& m = *model_;
  if (s.width != m.width || s.height != m.height)
    throw InvalidArgument("synthetic palm built for " + std::to_string(m.width) + "x" + std::to_string(m.height) +
                          " cannot render " + std::to_string(s.width) + "x" + std::to_string(s.height));
  const SyntheticVariation& v = s.variation;
  Rng rng(mix(mix(mix(m.id.seed, m.id.palm), hand_seed(m.id.hand)), capture_index + 0x51ED));
  // Capture pose and conditions (drawn in a fixed order so that each stays reproducible).
  const double scale = std::exp(rng.normal(v.scale, 2.5));
  const double rot = (tune::kBaseRotationDeg + s.rotate_deg + rng.normal(v.rotate_deg, 2.5)) * kPi / 180;
  const double tx = rng.normal(v.translate, 2.5) * m.width, ty = rng.normal(v.translate, 2.5) * m.width;
  const double tilt_x = rng.normal(v.tilt_deg, 2.5) * kPi / 180, tilt_y = rng.normal(v.tilt_deg, 2.5) * kPi / 180;
  const double spread = std::exp(rng.normal(v.spread, 2.5));
  std::array<double, 5> finger_jitter{};
  for (double& f : finger_jitter) f = rng.normal(v.spread * 6, 2);
  const double exposure_jitter = std::exp(rng.normal(v.exposure, 2.5));
  const double blur_sigma = rng.uniform(0, v.blur_max) * m.k;
  const std::uint64_t noise_seed = rng.next();

  // Light: LED banks, exposure, gain, distance (inverse square: a closer hand is brighter).
  const double l850 = s.illumination_850 / double(kSyntheticIlluminationLevels - 1) * tune::kBank850Efficiency;
  const double l940 = s.illumination_940 / double(kSyntheticIlluminationLevels - 1) * tune::kBank940Efficiency;
  const double share850 = l850 + l940 > 0 ? l850 / (l850 + l940) : 0;
  const double exposure = s.exposure_us / tune::kReferenceExposureUs * s.gain;
  const double hand_light = (l850 + l940) * scale * scale * exposure_jitter + tune::kAmbient;

  // Canonical -> frame homography: centre * scale * rotation * mirror * tilt.
  const double mirror = m.id.hand == Hand::Right ? -1 : 1;
  const double sk = scale * m.k;
  cv::Matx33d tilt(1, 0, 0, 0, 1, 0, std::tan(tilt_y) / tune::kFocal, std::tan(tilt_x) / tune::kFocal, 1);
  cv::Matx33d mir(mirror, 0, 0, 0, 1, 0, 0, 0, 1);
  cv::Matx33d rs(sk * std::cos(rot), -sk * std::sin(rot), 0, sk * std::sin(rot), sk * std::cos(rot), 0, 0, 0, 1);
  cv::Matx33d place(1, 0, tune::kCentreX * m.width + tx, 0, 1, tune::kCentreY * m.height + ty, 0, 0, 1);
  const cv::Matx33d H = place * rs * mir * tilt;

  cv::Mat frame(m.height, m.width, CV_32F);
  if (!s.hand_present) {
    frame = m.background * ((l850 + l940) * exposure_jitter + tune::kAmbient) * 255.0;
  } else {
    // Hand mask (anti-aliased), fingers rotated about their bases by the capture's spread.
    cv::Mat mask = cv::Mat::zeros(m.height, m.width, CV_8U);
    auto fill = [&](const std::vector<cv::Point2d>& pts) {
      std::vector<cv::Point2d> out;
      cv::perspectiveTransform(pts, out, cv::Mat(H));
      std::vector<cv::Point> ipts;
      for (const auto& p : out) ipts.emplace_back(cv::Point(p * 16.0));
      cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{ipts}, cv::Scalar(255), cv::LINE_AA, 4);
    };
    fill(m.palm_outline);
    fill(m.thenar);
    fill(m.wrist);
    for (int i = 0; i < 5; ++i) {
      const double base_angle = tune::kFingerAngle[2];
      const double angle = base_angle + (m.fingers[i].angle_deg - base_angle) * spread + finger_jitter[i];
      fill(capsule(m.fingers[i], angle, m.fingers[i].length * (i == 0 ? 0.45 : 0.2)));
    }
    // Soft falloff towards the silhouette, computed at quarter resolution.
    cv::Mat small, shade;
    cv::resize(mask, small, {std::max(8, m.width / 4), std::max(6, m.height / 4)}, 0, 0, cv::INTER_AREA);
    small.convertTo(small, CV_32F, 1 / 255.0);
    cv::GaussianBlur(small, small, {0, 0}, tune::kShadeSigma * m.palm_w * sk / 4);
    cv::resize(small, shade, mask.size(), 0, 0, cv::INTER_LINEAR);
    // Skin transmittance warped into the frame.
    const cv::Matx33d from_raster =
        H * cv::Matx33d(1 / m.k, 0, -m.origin.x / m.k, 0, 1 / m.k, -m.origin.y / m.k, 0, 0, 1);
    cv::Mat warped;
    auto warp = [&](const cv::Mat& skin) {
      cv::Mat out;
      cv::warpPerspective(skin, out, cv::Mat(from_raster), mask.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
      return out;
    };
    if (share850 <= 0) warped = warp(m.skin940);
    else if (share850 >= 1) warped = warp(m.skin850);
    else cv::addWeighted(warp(m.skin940), 1 - share850, warp(m.skin850), share850, 0, warped);
    const float bg_gain = static_cast<float>(((l850 + l940) * exposure_jitter + tune::kAmbient) * 255);
    const float hand_gain = static_cast<float>(hand_light * m.albedo * 255);
    for (int y = 0; y < m.height; ++y) {
      const std::uint8_t* mk = mask.ptr<std::uint8_t>(y);
      const float* sh = shade.ptr<float>(y);
      const float* tr = warped.ptr<float>(y);
      const float* li = m.light.ptr<float>(y);
      const float* bg = m.background.ptr<float>(y);
      float* out = frame.ptr<float>(y);
      for (int x = 0; x < m.width; ++x) {
        const float a = mk[x] * (1 / 255.0f);
        const float shaded = m.shade_lut[static_cast<int>(std::clamp(sh[x], 0.0f, 1.0f) * 1024.0f)];
        out[x] = a * hand_gain * shaded * tr[x] * li[x] + (1 - a) * bg_gain * bg[x];
      }
    }
  }
  frame *= exposure;
  if (blur_sigma > 0.3) cv::GaussianBlur(frame, frame, {0, 0}, blur_sigma);
  // Sensor noise: shot + read noise from a counter-based generator (deterministic per pixel).
  Image image(m.width, m.height);
  const double noise_mult = v.noise;
  const float read2 = static_cast<float>(std::pow(tune::kReadNoise * s.gain * noise_mult, 2));
  const float shot = static_cast<float>(tune::kShotNoise * s.gain * noise_mult * noise_mult);
  // Noise sd as a function of the signal, tabulated at half grey levels (sqrt per pixel is costly).
  std::array<float, 513> noise_sd{};
  for (std::size_t i = 0; i < noise_sd.size(); ++i) noise_sd[i] = 1.7320508f * std::sqrt(read2 + shot * (i * 0.5f));
  for (int y = 0; y < m.height; ++y) {
    const float* in = frame.ptr<float>(y);
    std::uint8_t* out = image.row8(y);
    std::uint64_t state = mix(noise_seed, static_cast<std::uint64_t>(y));
    for (int x = 0; x < m.width; ++x) {
      state = splitmix(state);
      // Sum of four 16-bit uniforms: close enough to a normal for sensor noise (Irwin-Hall).
      const float u = static_cast<float>((state & 0xFFFF) + ((state >> 16) & 0xFFFF) + ((state >> 32) & 0xFFFF) +
                                         (state >> 48)) * (1.0f / 65536.0f) - 2.0f;
      const float value = in[x] + u * noise_sd[static_cast<std::size_t>(std::clamp(in[x], 0.0f, 256.0f) * 2.0f)];
      out[x] = static_cast<std::uint8_t>(std::clamp(value + 0.5f, 0.0f, 255.0f));
    }
  }
  return image;
}

}  // namespace v1
}  // namespace palmvein
