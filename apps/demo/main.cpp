// SPDX-License-Identifier: Apache-2.0
// palmvein-demo: a live window on any sensor (the virtual one by default) with the hand outline, the
// ROI and capture guidance drawn on each frame, and keys to enrol (e), verify (v), verify with both
// hands (b: left palm, then right), identify (i), type the identity id (n), switch the hand (h) and
// quit (q). Enrolling over an existing identity asks
// first (r replaces, any other key cancels), as the CLI refuses without --replace; after one hand
// the demo offers the other. Results show the threshold beside the score. Without a display it says
// so and points to the headless `palmvein demo`.
// For automated runs: --frames N quits after N frames, --screenshot FILE saves the last window
// image, --press KEYS queues key presses (e.g. "ev": enrol, then verify; "nbob\n": type the id bob),
// results go to stdout too.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <opencv2/highgui.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "gallery_cli.hpp"
#include "palmvein/enrollment.hpp"
#include "palmvein/error.hpp"
#include "palmvein/matcher.hpp"
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
  std::string right_sensor;  // where the right hand is presented (default: the same sensor)
  std::string id = "demo-user";
  std::string hand = "L";
  int samples = 3;
  int frames = 0;
  std::string screenshot;
  std::string press;
  cli::ThresholdArgs threshold;
};

// Idle: waiting for a key. TypeId: keys edit the id. ConfirmReplace: the identity exists; r replaces.
// BothHands: verifying the id with both palms (left, then right; PersonProbe).
enum class Mode { Idle, Enrol, Verify, Identify, BothHands, TypeId, ConfirmReplace };

constexpr std::size_t kMaxTypedId = 64;  // characters typed in the window (the library allows 128 bytes)

// Whether a frame of the right hand is still the left palm (one sensor, the person has not changed
// hands yet): it scores like a genuine pair against the left palm just taken.
bool matches_left(const Template& frame, const Template& left) {
  return Matcher(left).score(frame) >= default_consistency_threshold();
}

Hand other_hand(Hand hand) { return hand == Hand::Left ? Hand::Right : hand == Hand::Right ? Hand::Left : Hand::Unknown; }

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
  Hand hand = parse_hand(a.hand);
  std::string id = a.id;
  check_identity_id(id);  // the library's rule (Gallery::enroll applies it again): refuse before the window opens
  const DecisionThreshold threshold = cli::resolve_threshold(a.threshold);
  const DecisionThreshold person_threshold = cli::resolve_two_hand_threshold(a.threshold);  // --fmr per person
  Gallery gallery = cli::open_gallery(a.gallery, true);
  auto left_sensor = open_sensor(a.sensor);
  left_sensor->start();
  std::unique_ptr<Sensor> right_sensor;
  if (!a.right_sensor.empty()) {
    right_sensor = open_sensor(a.right_sensor);
    right_sensor->start();
  }
  // The sensor the current hand is presented on.
  auto sensor_for = [&](Hand h) -> Sensor& { return h == Hand::Right && right_sensor ? *right_sensor : *left_sensor; };
  auto sensor_uri = [&](Hand h) { return h == Hand::Right && right_sensor ? a.right_sensor : a.sensor; };
  const TemplateExtractor extractor;
  EnrollmentOptions enrol_options;
  enrol_options.samples = a.samples;

  cv::namedWindow(kWindow, cv::WINDOW_AUTOSIZE);
  Mode mode = Mode::Idle;
  int mode_frames = 0;
  std::optional<EnrollmentSession> session;
  EnrollMode enrol_mode = EnrollMode::Create;
  std::string typed;  // the id being typed (Mode::TypeId)
  PersonProbe both;   // the palms captured so far (Mode::BothHands: left first)
  std::string result = "Press e to enrol '" + id + "' (" + hand_name(hand) + " hand), v to verify, i to identify, n to type an id, q to quit";
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

  auto start_enrolment = [&](EnrollMode m) {
    session.emplace(extractor, enrol_options);
    enrol_mode = m;
    mode = Mode::Enrol;
    mode_frames = 0;
    result = "Enrolling '" + id + "' (" + hand_name(hand) + " hand): hold your " + hand_name(hand) + " palm over the sensor";
    result_colour = kYellow;
  };

  for (;;) {
    Frame frame;
    try {
      // Both-hands verification shows the hand it is waiting for, on that hand's sensor.
      const Hand shown_hand = mode == Mode::BothHands ? (both.left ? Hand::Right : Hand::Left) : hand;
      frame = sensor_for(shown_hand).grab(std::chrono::milliseconds(2000));
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
    if (mode == Mode::Enrol || mode == Mode::Verify || mode == Mode::Identify || mode == Mode::BothHands) ++mode_frames;
    try {
      if (mode == Mode::Enrol) {
        const FrameFeedback fb = session->add(extracted);
        if (session->state() == EnrollmentState::Complete) {
          // Two hands are two palms: samples that match the identity's other hand mean the same palm again.
          const Hand other = other_hand(hand);
          std::optional<double> same_palm;
          if (other != Hand::Unknown && gallery.find(id, other)) {
            const Verifier other_hand_templates = Verifier::load(gallery, id, other);
            for (const Template& t : session->templates()) {
              const double score = other_hand_templates.verify(t, threshold).score;
              if (score >= enrol_options.consistency_threshold) same_palm = std::max(same_palm.value_or(0.0), score);
            }
          }
          if (same_palm) {
            set_result("Enrolment refused: this palm matches the " + hand_name(other) + " hand of '" + id + "' (score " +
                           format_score(*same_palm) + "): present the " + hand_name(hand) + " hand",
                       kRed);
          } else {
            EnrollRequest request;
            request.id = id;
            request.hand = hand;
            request.mode = enrol_mode;
            request.algorithm = session->templates().front().algorithm();
            request.templates = session->template_bytes();
            const auto info = gallery.enroll(request);
            std::string text = std::string(enrol_mode == EnrollMode::Replace ? "Re-enrolled '" : "Enrolled '") + info.id +
                               "' " + hand_name(hand) + " hand (" + std::to_string(info.template_count) + " templates)";
            // Offer the second hand: switch to it when it is not enrolled yet.
            if (other != Hand::Unknown && !gallery.find(id, other)) {
              hand = other;
              text += " - press e to enrol the " + hand_name(hand) + " hand too";
            }
            set_result(text, kGreen);
          }
        } else if (session->state() == EnrollmentState::Failed) {
          set_result("Enrolment failed: " + session->failure_reason(), kRed);
        } else {
          result = "Enrolling '" + id + "' (" + hand_name(hand) + " hand): " + std::to_string(fb.good) + "/" +
                   std::to_string(a.samples) + " samples";
          result_colour = kYellow;
        }
      } else if (mode == Mode::BothHands && extracted.ok()) {
        if (!both.left) {
          both.left = *extracted.templ;
          mode_frames = 0;
          result = "Both hands, '" + id + "': left palm taken - now the right palm" +
                   (right_sensor ? " (sensor " + a.right_sensor + ")" : std::string(": change hands"));
          result_colour = kYellow;
        } else if (matches_left(*extracted.templ, *both.left)) {
          result = "Both hands, '" + id + "': still the left palm - change hands";  // from one sensor
        } else {
          both.right = *extracted.templ;
          try {
            const VerificationResult r = gallery.verify(id, both, person_threshold);
            set_result(std::string(r.accepted ? "ACCEPTED" : "REJECTED") + " as '" + id + "' with both hands - L " +
                           format_score(*r.left_score) + ", R " + format_score(*r.right_score) + ": score " +
                           format_score(r.score) + (r.accepted ? " >= " : " < ") + "threshold " +
                           format_score(r.threshold.score),
                       r.accepted ? kGreen : kRed);
          } catch (const GalleryError& e) {
            if (e.fault() != GalleryFault::NotFound) throw;
            set_result(std::string(e.what()) + ": enrol both hands first", kRed);
          }
        }
      } else if ((mode == Mode::Verify || mode == Mode::Identify) && extracted.ok()) {
        if (mode == Mode::Verify) {
          try {
            const VerificationResult r = gallery.verify(id, std::nullopt, *extracted.templ, threshold);
            set_result(std::string(r.accepted ? "ACCEPTED" : "REJECTED") + " as '" + id + "' - score " +
                           format_score(r.score) + (r.accepted ? " >= " : " < ") + "threshold " +
                           format_score(r.threshold.score),
                       r.accepted ? kGreen : kRed);
          } catch (const GalleryError& e) {
            if (e.fault() != GalleryFault::NotFound) throw;
            set_result("'" + id + "' is not enrolled: press e first", kRed);
          }
        } else {
          const IdentificationResult r = gallery.identify(*extracted.templ, threshold);
          const std::string bar = "threshold " + format_score(r.threshold.score);
          if (r.found())
            set_result("IDENTIFIED: '" + r.identity->id + "' - score " + format_score(r.identity->score) + " >= " + bar,
                       kGreen);
          else
            set_result("NOT FOUND" + (r.candidates.empty() ? std::string(" (empty gallery)")
                                                           : " - best '" + r.candidates.front().id + "' score " +
                                                                 format_score(r.candidates.front().score) + " < " + bar),
                       kRed);
        }
      }
      if ((mode == Mode::Verify || mode == Mode::Identify || mode == Mode::BothHands) && mode_frames >= kMaxFramesPerAction)
        set_result("No usable palm: " + guidance_text, kRed);
    } catch (const Error& e) {
      set_result(std::string("Error: ") + e.what(), kRed);
    }

    canvas = cv::Mat(view.rows + kPanelHeight, view.cols, CV_8UC3, kPanel);
    view.copyTo(canvas(cv::Rect(0, 0, view.cols, view.rows)));
    draw_text(canvas, guidance_text, {10, 30}, 0.8, guidance_colour, 2);
    draw_text(canvas, result, {10, view.rows + 34}, 0.62, result_colour, 2);
    draw_text(canvas, mode == Mode::TypeId ? "type the id   Enter: confirm   Backspace: delete   Esc: cancel"
                                           : "e: enrol  v: verify  b: both hands  i: identify  n: id  h: hand (" + hand_name(hand) +
                                                 ")   q: quit      '" + id + "'  sensor " + sensor_uri(hand),
              {10, view.rows + 72}, 0.45, kGrey);
    cv::imshow(kWindow, canvas);
    ++shown;
    int key = cv::waitKey(1);
    const bool takes_keys = mode == Mode::Idle || mode == Mode::TypeId || mode == Mode::ConfirmReplace;
    if (takes_keys && !pending.empty() && key < 0) {
      key = pending.front();
      pending.pop_front();
    }
    if (key >= 0) key &= 0xff;
    if (mode == Mode::TypeId && key >= 0) {
      if (key == '\r' || key == '\n') {
        try {
          check_identity_id(typed);
          id = typed;
          set_result("Identity is now '" + id + "': press e to enrol, v to verify", kWhite);
        } catch (const InvalidArgument& e) {
          set_result(std::string("Not a valid id: ") + e.what(), kRed);
        }
      } else if (key == 27) {
        set_result("Id unchanged: '" + id + "'", kWhite);
      } else if (key == 8 || key == 127) {
        if (!typed.empty()) typed.pop_back();
      } else if (key >= 0x20 && key < 0x7f && typed.size() < kMaxTypedId) {
        typed += static_cast<char>(key);
      }
      if (mode == Mode::TypeId) result = "Type the id: " + typed + "_";
    } else if (mode == Mode::ConfirmReplace && key >= 0) {
      if (key == 'r') {
        start_enrolment(EnrollMode::Replace);
      } else {
        set_result("Enrolment cancelled: '" + id + "' (" + hand_name(hand) + " hand) kept as it was", kWhite);
      }
    } else {
      if (key == 'q' || key == 27) break;
      if (mode == Mode::Idle && (key == 'e' || key == 'v' || key == 'i' || key == 'b' || key == 'n' || key == 'h')) {
        mode_frames = 0;
        result_colour = kYellow;
        if (key == 'e') {
          if (gallery.find(id, hand)) {  // as the CLI: never replace an identity without being told to
            mode = Mode::ConfirmReplace;
            result = "'" + id + "' (" + hand_name(hand) + " hand) is already enrolled: press r to replace it, any other key to cancel";
          } else {
            start_enrolment(EnrollMode::Create);
          }
        } else if (key == 'b') {
          mode = Mode::BothHands;
          both = PersonProbe{};
          result = "Both hands, '" + id + "': present the left palm";
        } else if (key == 'n') {
          mode = Mode::TypeId;
          typed.clear();
          result = "Type the id: _";
        } else if (key == 'h') {
          hand = hand == Hand::Left ? Hand::Right : Hand::Left;
          result = "Hand: " + hand_name(hand) + " (e enrols it for '" + id + "')";
          result_colour = kWhite;
        } else {
          mode = key == 'v' ? Mode::Verify : Mode::Identify;
          result = key == 'v' ? "Verifying '" + id + "'..." : "Identifying...";
        }
      }
    }
    if (a.frames > 0 && shown >= a.frames) break;
    if (cv::getWindowProperty(kWindow, cv::WND_PROP_VISIBLE) < 1 && shown > 1) break;  // window closed
  }
  left_sensor->stop();
  if (right_sensor) right_sensor->stop();
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
  app.add_option("--right-sensor", args.right_sensor,
                 "Sensor URI the right hand is presented on (default: --sensor), e.g. 'virtual:?palm=1&hand=R'");
  app.add_option("--id", args.id, "Identity to enrol and verify (n types another in the window)")->capture_default_str();
  app.add_option("--hand", args.hand, "Hand of the first enrolment: L, R or U (h switches in the window)")->capture_default_str();
  app.add_option("--samples", args.samples, "Samples per enrolment")->capture_default_str()->check(CLI::Range(1, 16));
  app.add_option("--frames", args.frames, "Quit after this many frames (0: run until q)")->check(CLI::Range(0, 1000000));
  app.add_option("--screenshot", args.screenshot, "Save the last window image to this file (PNG)");
  app.add_option("--press", args.press,
                 "Keys to press automatically, in order (e.g. ev; a newline is Enter, so $'nbob\\n' types the id bob)");
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
