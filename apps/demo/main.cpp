// SPDX-License-Identifier: Apache-2.0
// palmvein-demo: a live window on any sensor (the virtual one by default) with the hand outline, the
// ROI and capture guidance drawn on each frame, and keys to enrol (e), verify (v), identify (i) and
// quit (q). Without a display it says so and points to the headless `palmvein demo`.
// For automated runs: --frames N quits after N frames, --screenshot FILE saves the last window
// image, --press KEYS queues key presses (e.g. "ev": enrol, then verify), results go to stdout too.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "gallery_cli.hpp"
#include "palmvein/enrollment.hpp"
#include "palmvein/error.hpp"
#include "palmvein/sensor.hpp"
#include "palmvein/version.hpp"

namespace {

using namespace palmvein;
using palmvein::cli::format_score;

constexpr const char* kWindow = "palmvein-demo";
constexpr int kPanelHeight = 96;
constexpr int kMaxFramesPerAction = 90;  // a verify/identify without a usable palm gives up after this

const cv::Scalar kGreen(60, 220, 60), kRed(60, 60, 235), kYellow(40, 220, 240), kWhite(255, 255, 255),
    kGrey(170, 170, 170), kPanel(40, 32, 28);

struct Args {
  cli::GalleryArgs gallery;
  std::string sensor = "virtual:?palm=1";
  std::string id = "demo-user";
  std::string hand = "L";
  int samples = 3;
  int frames = 0;
  std::string screenshot;
  std::string press;
  cli::ThresholdArgs threshold;
};

enum class Mode { Idle, Enrol, Verify, Identify };

cv::Point to_point(const PointF& p) { return {static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y))}; }

void draw_text(cv::Mat& canvas, const std::string& text, cv::Point origin, double scale, const cv::Scalar& colour,
               int thickness = 1) {
  // Shrink long lines (guidance, error messages) to the window width.
  int baseline = 0;
  const int width = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness + 3, &baseline).width;
  if (width > canvas.cols - 2 * origin.x) scale *= static_cast<double>(canvas.cols - 2 * origin.x) / width;
  cv::putText(canvas, text, origin, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), thickness + 3, cv::LINE_AA);
  cv::putText(canvas, text, origin, cv::FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv::LINE_AA);
}

void draw_roi(cv::Mat& view, const PalmRoi& roi) {
  std::vector<cv::Point> outline;
  for (const auto& p : roi.hand_outline) outline.push_back(to_point(p));
  if (outline.size() > 1) cv::polylines(view, outline, true, kGreen, 2, cv::LINE_AA);
  for (int k = 0; k < 4; ++k) cv::line(view, to_point(roi.corners[k]), to_point(roi.corners[(k + 1) % 4]), kYellow, 2, cv::LINE_AA);
  for (const auto& p : roi.key_points) cv::circle(view, to_point(p), 5, kRed, cv::FILLED, cv::LINE_AA);
}

cv::Mat to_bgr(const Image& image) {
  const Image gray = image.format() == PixelFormat::Gray8 ? image : image.to_gray8();
  cv::Mat view(gray.height(), gray.width(), CV_8UC1, const_cast<std::uint8_t*>(gray.data()), gray.stride());
  cv::Mat bgr;
  cv::cvtColor(view, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

int run(const Args& a) {
  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if ((!display || !*display) && (!wayland || !*wayland)) {
    std::fprintf(stderr,
                 "palmvein-demo: no display ($DISPLAY is not set). For a headless run use: palmvein demo --db FILE\n");
    return 2;
  }
  const Hand hand = parse_hand(a.hand);
  check_identity_id(a.id);  // the library's rule (Gallery::enroll applies it again): refuse before the window opens
  const DecisionThreshold threshold = cli::resolve_threshold(a.threshold);
  Gallery gallery = cli::open_gallery(a.gallery, true);
  auto sensor = open_sensor(a.sensor);
  sensor->start();
  const TemplateExtractor extractor;
  EnrollmentOptions enrol_options;
  enrol_options.samples = a.samples;

  cv::namedWindow(kWindow, cv::WINDOW_AUTOSIZE);
  Mode mode = Mode::Idle;
  int mode_frames = 0;
  std::optional<EnrollmentSession> session;
  std::string result = "Press e to enrol '" + a.id + "', v to verify, i to identify, q to quit";
  cv::Scalar result_colour = kWhite;
  std::deque<char> pending(a.press.begin(), a.press.end());
  cv::Mat canvas;
  int shown = 0;
  int with_palm = 0;  // frames on which a palm ROI was found and drawn
  auto set_result = [&](const std::string& text, const cv::Scalar& colour) {
    result = text;
    result_colour = colour;
    mode = Mode::Idle;
    std::printf("result: %s\n", text.c_str());
    std::fflush(stdout);
  };

  for (;;) {
    Frame frame;
    try {
      frame = sensor->grab(std::chrono::milliseconds(2000));
    } catch (const DeviceError& e) {
      if (e.fault() == DeviceFault::Timeout) continue;
      throw;
    }
    const ExtractResult extracted = extractor.extract(frame.image, ImageKind::FullHand);
    cv::Mat view = to_bgr(frame.image);
    std::string guidance_text;
    cv::Scalar guidance_colour = kGreen;
    if (extracted.roi.ok()) {
      draw_roi(view, extracted.roi.roi());
      ++with_palm;
      guidance_text = "Palm OK - quality " + format_score(extracted.roi.roi().quality);
    } else {
      guidance_text = std::string(guidance(extracted.roi.failure()));
      guidance_colour = kRed;
    }

    // The action in progress consumes this frame.
    if (mode != Mode::Idle) ++mode_frames;
    try {
      if (mode == Mode::Enrol) {
        const FrameFeedback fb = session->add(extracted);
        if (session->state() == EnrollmentState::Complete) {
          EnrollRequest request;
          request.id = a.id;
          request.hand = hand;
          request.mode = EnrollMode::Replace;
          request.algorithm = session->templates().front().algorithm();
          request.templates = session->template_bytes();
          const auto info = gallery.enroll(request);
          set_result("Enrolled '" + info.id + "' (" + std::to_string(info.template_count) + " templates)", kGreen);
        } else if (session->state() == EnrollmentState::Failed) {
          set_result("Enrolment failed: " + session->failure_reason(), kRed);
        } else {
          result = "Enrolling '" + a.id + "': " + std::to_string(fb.good) + "/" + std::to_string(a.samples) + " samples";
          result_colour = kYellow;
        }
      } else if ((mode == Mode::Verify || mode == Mode::Identify) && extracted.ok()) {
        if (mode == Mode::Verify) {
          try {
            const VerificationResult r = gallery.verify(a.id, std::nullopt, *extracted.templ, threshold);
            set_result(std::string(r.accepted ? "ACCEPTED" : "REJECTED") + " as '" + a.id + "' - score " +
                           format_score(r.score) + (r.accepted ? " >= " : " < ") + format_score(r.threshold.score),
                       r.accepted ? kGreen : kRed);
          } catch (const GalleryError& e) {
            if (e.fault() != GalleryFault::NotFound) throw;
            set_result("'" + a.id + "' is not enrolled: press e first", kRed);
          }
        } else {
          const IdentificationResult r = gallery.identify(*extracted.templ, threshold);
          if (r.found())
            set_result("IDENTIFIED: '" + r.identity->id + "' - score " + format_score(r.identity->score), kGreen);
          else
            set_result("NOT FOUND" + (r.candidates.empty() ? std::string(" (empty gallery)")
                                                           : " - best '" + r.candidates.front().id + "' " +
                                                                 format_score(r.candidates.front().score)),
                       kRed);
        }
      }
      if (mode != Mode::Idle && mode != Mode::Enrol && mode_frames >= kMaxFramesPerAction)
        set_result("No usable palm: " + guidance_text, kRed);
    } catch (const Error& e) {
      set_result(std::string("Error: ") + e.what(), kRed);
    }

    canvas = cv::Mat(view.rows + kPanelHeight, view.cols, CV_8UC3, kPanel);
    view.copyTo(canvas(cv::Rect(0, 0, view.cols, view.rows)));
    draw_text(canvas, guidance_text, {10, 30}, 0.8, guidance_colour, 2);
    draw_text(canvas, result, {10, view.rows + 34}, 0.62, result_colour, 2);
    draw_text(canvas, "e: enrol   v: verify   i: identify   q: quit      sensor " + a.sensor, {10, view.rows + 72}, 0.45,
              kGrey);
    cv::imshow(kWindow, canvas);
    ++shown;
    int key = cv::waitKey(1);
    if (mode == Mode::Idle && !pending.empty() && key < 0) {
      key = pending.front();
      pending.pop_front();
    }
    key &= 0xff;
    if (key == 'q' || key == 27) break;
    if (mode == Mode::Idle && (key == 'e' || key == 'v' || key == 'i')) {
      mode_frames = 0;
      if (key == 'e') {
        session.emplace(extractor, enrol_options);
        mode = Mode::Enrol;
        result = "Enrolling '" + a.id + "': hold your palm over the sensor";
      } else {
        mode = key == 'v' ? Mode::Verify : Mode::Identify;
        result = key == 'v' ? "Verifying '" + a.id + "'..." : "Identifying...";
      }
      result_colour = kYellow;
    }
    if (a.frames > 0 && shown >= a.frames) break;
    if (cv::getWindowProperty(kWindow, cv::WND_PROP_VISIBLE) < 1 && shown > 1) break;  // window closed
  }
  sensor->stop();
  if (!a.screenshot.empty() && !canvas.empty() && !cv::imwrite(a.screenshot, canvas))
    throw IoError("cannot write screenshot '" + a.screenshot + "'");
  std::printf("palmvein-demo: showed %d frames, palm found on %d\n", shown, with_palm);
  cv::destroyAllWindows();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"palmvein-demo: live palm-vein demo window (enrol, verify, identify)", "palmvein-demo"};
  Args args;
  args.gallery.db = "palmvein-demo.db";
  app.add_option("--db", args.gallery.db, "Gallery database file")->capture_default_str();
  app.add_option("--key-file", args.gallery.key_file, "Key file (default $PALMVEIN_KEY_FILE, then the user's config folder)");
  app.add_option("--sensor", args.sensor, "Sensor URI")->capture_default_str();
  app.add_option("--id", args.id, "Identity to enrol and verify")->capture_default_str();
  app.add_option("--hand", args.hand, "Hand of the enrolment: L, R or U")->capture_default_str();
  app.add_option("--samples", args.samples, "Samples per enrolment")->capture_default_str()->check(CLI::Range(1, 16));
  app.add_option("--frames", args.frames, "Quit after this many frames (0: run until q)")->check(CLI::Range(0, 1000000));
  app.add_option("--screenshot", args.screenshot, "Save the last window image to this file (PNG)");
  app.add_option("--press", args.press, "Keys to press automatically, in order (e.g. ev)");
  cli::add_threshold_args(&app, args.threshold);
  app.set_version_flag("--version", std::string("palmvein-demo ") + palmvein::version_string());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "palmvein-demo: error: %s\n", e.what());
    return 2;
  }
}
