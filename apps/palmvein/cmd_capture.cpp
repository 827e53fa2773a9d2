// SPDX-License-Identifier: Apache-2.0
// palmvein capture: grabs frames from a sensor, assesses each with the ROI stage (quality and the
// one thing to fix, printed as live guidance) and writes the frames with a MANIFEST.csv.
// --preview shows the live frame with the hand outline and ROI (OpenCV highgui; only this tool links
// it, never palmvein_core) when a display exists.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#ifdef PALMVEIN_HAVE_HIGHGUI
#include <opencv2/core.hpp>
#include <opencv2/highgui.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "commands.hpp"
#include "palmvein/evaluation.hpp"
#include "output_guard.hpp"
#include "palmvein/sensor_uri.hpp"
#include "palmvein/auto_exposure.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/sensor.hpp"

namespace palmvein::cli {
namespace {

struct CaptureOptions {
  std::string sensor = "virtual:";
  int count = 10;
  std::string out;
  bool preview = false;
  bool only_good = false;
  bool auto_exposure = false;
  int timeout_ms = 2000;
  std::string subject = "001";
  std::string hand = "unknown";
  int session = 1;
};

// A small blocking queue between the grab thread, the assessing (main) thread and the PNG writer.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}
  // Blocks while full; returns false (dropping the item) once closed.
  bool push(T item) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    cv_.notify_all();
    return true;
  }
  // Waits up to `timeout`; nullopt on timeout or when closed and drained.
  std::optional<T> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); })) return std::nullopt;
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    cv_.notify_all();
    return item;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<T> items_;
  bool closed_ = false;
};

class Preview {
 public:
  explicit Preview(bool wanted) {
    if (!wanted) return;
    const char* display = std::getenv("DISPLAY");
#ifdef PALMVEIN_HAVE_HIGHGUI
    if (display && *display) {
      enabled_ = true;
      cv::namedWindow(kWindow, cv::WINDOW_AUTOSIZE);
      return;
    }
#endif
    std::printf("capture: no display%s: running without preview\n",
                display && *display ? " support (built without OpenCV highgui)" : " ($DISPLAY is not set)");
  }
  ~Preview() {
#ifdef PALMVEIN_HAVE_HIGHGUI
    if (enabled_) cv::destroyWindow(kWindow);
#endif
  }
  // Shows the frame; returns false when the user closed the preview (Esc or q).
  bool show(const Image& frame, const RoiResult& roi, const std::string& line) {
#ifdef PALMVEIN_HAVE_HIGHGUI
    if (!enabled_) return true;
    const Image shown = roi.ok() ? draw_roi_overlay(frame, roi.roi()) : frame.to_gray8();
    cv::Mat grey(shown.height(), shown.width(), CV_8UC1, const_cast<std::uint8_t*>(shown.data()), shown.stride());
    cv::Mat colour;
    cv::cvtColor(grey, colour, cv::COLOR_GRAY2BGR);
    cv::putText(colour, line, {10, 24}, cv::FONT_HERSHEY_SIMPLEX, 0.6,
                roi.ok() ? cv::Scalar(80, 220, 80) : cv::Scalar(60, 60, 240), 2);
    cv::imshow(kWindow, colour);
    const int key = cv::waitKey(1);
    return key != 27 && key != 'q';
#else
    (void)frame, (void)roi, (void)line;
    return true;
#endif
  }

 private:
  static constexpr const char* kWindow = "palmvein capture";
  bool enabled_ = false;
};

int run_capture(const CaptureOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const SensorUri uri = parse_sensor_uri(o.sensor); uri.scheme == "file" && !uri.path.empty()) {
    // A replay never writes into what it replays: frames and MANIFEST.csv would land on the source.
    const fs::path source(uri.path);
    const fs::path source_folder = fs::is_directory(source, ec) ? source : source.parent_path();
    check_outputs({{"--out", o.out}}, {{"--sensor file: folder", source_folder.empty() ? fs::path(".") : source_folder}});
  }
  auto sensor = open_sensor(o.sensor);  // an unknown or absent sensor leaves no output folder behind
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out)) throw IoError("cannot create output folder '" + o.out + "'");
  const SensorInfo info = sensor->info();
  std::printf("capture: %s (%s, %s)\n", info.uri.c_str(), info.driver.c_str(), info.name.c_str());
  sensor->start();
  if (o.auto_exposure) {
    const AutoExposureResult ae = run_auto_exposure(*sensor);
    std::printf("capture: auto-exposure %s after %d steps: %u us, gain %.2f, palm median %.0f\n",
                ae.converged ? "converged" : "did not converge", ae.iterations, ae.exposure_us, ae.gain,
                ae.last.median);
  }
  Preview preview(o.preview);
  const RoiExtractor extractor;
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  ManifestWriter manifest({"path", "subject", "hand", "band", "sample", "session", "kind", "quality", "roi",
                                     "advice", "guidance", "exposure_us", "gain", "counter"});
  const std::string_view hand = manifest_hand_text(parse_hand(o.hand));
  const std::string session = std::to_string(o.session);
  int written = 0, good = 0, attempts = 0;
  const int max_attempts = o.only_good ? o.count * 20 : o.count;
  // Three stages run in parallel: a FrameStream grabs (renders, for the virtual sensor), this thread
  // assesses quality and prints guidance, a writer thread encodes the PNGs.
  BoundedQueue<Frame> frames(3);
  std::mutex error_mutex;
  std::optional<DeviceError> stream_error;
  BoundedQueue<std::pair<fs::path, Image>> writes(8);
  std::string write_error;
  std::thread writer([&] {
    while (auto job = writes.pop(std::chrono::hours(24))) {
      try {
        write_image(job->first, job->second);
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (write_error.empty()) write_error = e.what();
      }
    }
  });
  std::string device_error;
  const auto t0 = std::chrono::steady_clock::now();
  {
    FrameStream stream(
        *sensor, [&](Frame&& f) { frames.push(std::move(f)); },
        [&](const DeviceError& e) {
          std::lock_guard lock(error_mutex);
          stream_error.emplace(e);
          frames.close();
        },
        timeout);
    auto finish = [&] {
      frames.close();
      stream.stop();
      writes.close();
      writer.join();
    };
    try {
      while (written < o.count && attempts < max_attempts) {
        std::optional<Frame> next = frames.pop(timeout);
        if (!next) {
          std::lock_guard lock(error_mutex);
          if (stream_error) throw *stream_error;
          throw DeviceError(DeviceFault::Timeout, "no frame from " + info.uri + " within " + std::to_string(o.timeout_ms) + " ms");
        }
        Frame& frame = *next;
        ++attempts;
        const RoiResult roi = extractor.extract(frame.image, ImageKind::FullHand);
        const RoiFailure advice = roi.ok() ? roi.roi().assessment.advice : roi.failure();
        const float quality = roi.ok() ? roi.roi().quality : 0.0f;
        std::string line = "frame " + std::to_string(attempts) + ": ";
        if (roi.ok() && advice == RoiFailure::None) {
          line += "ok, quality " + std::to_string(quality).substr(0, 4);
        } else {
          line += std::string(roi.ok() ? "usable, " : "no ROI, ") + std::string(to_string(advice)) + ": " +
                  std::string(guidance(advice));
          if (roi.ok()) line += " (quality " + std::to_string(quality).substr(0, 4) + ")";
        }
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        if (!o.only_good || roi.ok()) {
          ++written;
          good += roi.ok();
          char name[32];
          std::snprintf(name, sizeof name, "frame_%05d.png", written);
          char sample[16];
          std::snprintf(sample, sizeof sample, "%02d", written);
          manifest.row({name, o.subject, hand, frame.wavelength_nm ? std::to_string(frame.wavelength_nm) : "unknown",
                        sample, session, manifest_kind_text(ImageKind::FullHand), std::to_string(quality),
                        roi.ok() ? "ok" : to_string(roi.failure()), to_string(advice),
                        advice == RoiFailure::None ? "" : guidance(advice), std::to_string(frame.exposure_us),
                        std::to_string(frame.gain), std::to_string(frame.counter)});
          if (!preview.show(frame.image, roi, line)) {
            writes.push({fs::path(o.out) / name, std::move(frame.image)});
            break;
          }
          writes.push({fs::path(o.out) / name, std::move(frame.image)});
        } else if (!preview.show(frame.image, roi, line)) {
          break;
        }
      }
    } catch (const DeviceError& e) {
      // The device went away (unplug, end of a replay, timeout): keep what was captured.
      device_error = e.what();
    } catch (...) {
      finish();
      sensor->stop();
      throw;
    }
    finish();
  }
  try {
    sensor->stop();
  } catch (const DeviceError&) {
    // stopping a removed device: nothing left to stop
  }
  if (!write_error.empty()) throw IoError("capture: " + write_error + " (no MANIFEST.csv written)");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  manifest.save(fs::path(o.out) / "MANIFEST.csv");
  std::printf("captured %d frames (%d with an ROI) in %.2f s (%.1f frames/s) to %s\n", written, good, seconds,
              attempts / std::max(seconds, 1e-9), o.out.c_str());
  if (!device_error.empty()) {
    std::fprintf(stderr, "palmvein: error: %s (the manifest lists the %d frames captured before)\n",
                 device_error.c_str(), written);
    return kExitError;
  }
  if (written < o.count) {
    std::fprintf(stderr, "palmvein: error: only %d of %d frames had a usable palm\n", written, o.count);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void add_capture_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CaptureOptions>();
  CLI::App* cmd = app.add_subcommand("capture", "Capture frames from a sensor with live quality guidance");
  cmd->add_option("--sensor", o->sensor, "Sensor URI (see 'palmvein devices'), e.g. virtual:?palm=42")->required();
  cmd->add_option("--count", o->count, "Frames to write")->required()->check(CLI::Range(1, 1000000));
  cmd->add_option("--out", o->out, "Output folder for frame_NNNNN.png and MANIFEST.csv")->required();
  cmd->add_flag("--preview", o->preview, "Show the live frame with the hand outline and ROI (needs a display)");
  cmd->add_flag("--only-good", o->only_good, "Keep only frames with an ROI (up to 20 x count attempts)");
  cmd->add_flag("--auto-exposure", o->auto_exposure, "Run auto-exposure before capturing");
  cmd->add_option("--timeout-ms", o->timeout_ms, "Timeout per frame")->check(CLI::Range(1, 600000));
  cmd->add_option("--subject", o->subject, "Subject id written to the manifest");
  cmd->add_option("--hand", o->hand, "L, R or unknown")->check(CLI::IsMember({"L", "R", "unknown"}));
  cmd->add_option("--session", o->session, "Session number written to the manifest")->check(CLI::Range(1, 1000));
  cmd->callback([o, &exit_code] { exit_code = run_capture(*o); });
}

}  // namespace palmvein::cli
