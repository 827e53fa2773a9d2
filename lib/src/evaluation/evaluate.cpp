// SPDX-License-Identifier: Apache-2.0
// The all-pairs protocol of ../shared/PROTOCOL.md on one manifest: templates, scores, metrics.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string>

#include <opencv2/core.hpp>

#include "internal/thread_pool.hpp"

#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/image.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/template.hpp"

namespace palmvein {
inline namespace v1 {

void EvaluationOptions::check() const {
  if (threads < 0 || threads > 1024) throw InvalidArgument("evaluation threads must be 0..1024 (0 = all cores)");
}

namespace {

using Clock = std::chrono::steady_clock;

// Tuning of the evaluation run, all in one place.
struct Tuning {
  std::chrono::milliseconds progress_period{100};  // how often the progress callback runs
  std::size_t match_timing_samples = 200000;        // Matcher::score calls timed (spread over all pairs)
};

template <class T>
double median_of(std::vector<T> v) {
  if (v.empty()) return 0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = static_cast<double>(v[mid]);
  if (v.size() % 2) return upper;
  const double lower = static_cast<double>(*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
  return (lower + upper) / 2;
}

// OpenCV's own thread pool is switched off while we run one extraction per worker thread: the
// protocol times extraction on one thread, and nested parallelism only adds contention.
class OpenCvSingleThreaded {
 public:
  OpenCvSingleThreaded() : previous_(cv::getNumThreads()) { cv::setNumThreads(1); }
  ~OpenCvSingleThreaded() { cv::setNumThreads(previous_); }
  OpenCvSingleThreaded(const OpenCvSingleThreaded&) = delete;
  OpenCvSingleThreaded& operator=(const OpenCvSingleThreaded&) = delete;

 private:
  int previous_;
};

// Runs `work(worker_index)` for worker_index = 0 .. threads-1 on the pool's workers (which must be at
// least `threads`, so that no work lane waits for the caller) while the calling thread, lane 0 of the
// loop, reports progress. The first exception thrown by a worker stops the others (they poll
// `stop`) and is rethrown.
template <class Work>
void run_workers(internal::ThreadPool& pool, int threads, const Work& work, std::atomic<bool>& stop,
                 const std::atomic<std::size_t>& done, std::size_t total, std::string_view stage,
                 const EvaluationOptions& options) {
  const Tuning tuning;
  std::mutex mutex;
  std::condition_variable finished_cv;
  int running = threads;
  std::exception_ptr error;
  pool.parallel_for(static_cast<unsigned>(threads) + 1, [&](unsigned lane) {
    if (lane == 0) {
      std::unique_lock lock(mutex);
      while (running > 0) {
        finished_cv.wait_for(lock, tuning.progress_period);
        if (options.progress && running > 0) {
          lock.unlock();
          options.progress(stage, done.load(), total);
          lock.lock();
        }
      }
      return;
    }
    try {
      work(static_cast<int>(lane - 1));
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
    std::lock_guard lock(mutex);
    --running;
    finished_cv.notify_all();
  });
  if (error) std::rethrow_exception(error);
  if (options.progress) options.progress(stage, done.load(), total);
}

}  // namespace

EvaluationResult evaluate(const Manifest& manifest, const TemplateExtractor& extractor, const EvaluationOptions& options) {
  options.check();
  const Tuning tuning;
  const auto t_start = Clock::now();
  const std::size_t n = manifest.size();
  if (n < 2) throw InvalidArgument("evaluation needs at least two images");
  const int threads = static_cast<int>(internal::ThreadPool::lanes_for(static_cast<unsigned>(options.threads)));
  internal::ThreadPool pool(static_cast<unsigned>(threads));  // the workers; this thread reports progress
  OpenCvSingleThreaded opencv_single_threaded;

  EvaluationResult result;
  result.images.resize(n);

  // Stage 1: one template per image. Decoding is not timed; extraction is, on this one thread.
  std::vector<std::optional<Template>> templates(n);
  {
    std::atomic<std::size_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    // The error reported is that of the first image in manifest order that fails, whatever thread
    // meets it first: images are claimed in order, so every earlier one is finished before the
    // workers stop.
    std::mutex error_mutex;
    std::size_t error_index = n;
    std::exception_ptr error;
    auto work = [&](int) {
      for (std::size_t i = next++; i < n && !stop; i = next++) try {
        const Image image = read_image(manifest.image_path(i));  // throws IoError/FormatError naming the path
        const auto t0 = Clock::now();
        ExtractResult r;
        try {
          r = extractor.extract(image, manifest.entries()[i].kind);
        } catch (const std::exception& e) {
          throw Error("cannot extract a template from '" + manifest.image_path(i).string() + "': " + e.what());
        }
        const auto t1 = Clock::now();
        ImageOutcome& out = result.images[i];
        out.extract_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        if (r.ok()) {
          out.template_bytes = r.templ->serialized_size();
          templates[i] = std::move(r.templ);
        } else {
          out.fta = true;
          out.failure = r.roi.failure();
        }
        ++done;
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (i < error_index) error_index = i, error = std::current_exception();
        stop = true;
      }
    };
    run_workers(pool, std::min<int>(threads, static_cast<int>(n)), work, stop, done, n, "extract", options);
    if (error) std::rethrow_exception(error);
  }
  const auto t_extracted = Clock::now();

  // Stage 2: every unordered pair once; a Matcher is built around image i and scores all j > i.
  result.scores = PairScores(n);
  const std::int32_t lowest = PairScores::quantize(kLowestScore);
  const std::size_t pairs = result.scores.pairs();
  const std::size_t timing_stride = std::max<std::size_t>(1, pairs / tuning.match_timing_samples);
  std::vector<std::vector<double>> match_us(static_cast<std::size_t>(threads));
  {
    std::atomic<std::size_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    auto work = [&](int t) {
      auto& timings = match_us[static_cast<std::size_t>(t)];
      for (std::size_t i = next++; i + 1 < n && !stop; i = next++) {
        std::int32_t* row = result.scores.row(i);
        const std::size_t len = n - i - 1;
        if (!templates[i]) {
          std::fill(row, row + len, lowest);
        } else {
          const Matcher matcher(*templates[i]);
          const std::size_t base = result.scores.index(i, i + 1);
          for (std::size_t k = 0; k < len; ++k) {
            const auto& candidate = templates[i + 1 + k];
            if (!candidate) {
              row[k] = lowest;
            } else if ((base + k) % timing_stride == 0) {
              const auto t0 = Clock::now();
              const double s = matcher.score(*candidate);
              const auto t1 = Clock::now();
              timings.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
              row[k] = PairScores::quantize(s);
            } else {
              row[k] = PairScores::quantize(matcher.score(*candidate));
            }
          }
        }
        done += len;
      }
    };
    run_workers(pool, std::min<int>(threads, static_cast<int>(n - 1)), work, stop, done, pairs, "match", options);
  }
  const auto t_matched = Clock::now();
  result.extract_seconds = std::chrono::duration<double>(t_extracted - t_start).count();
  result.match_seconds = std::chrono::duration<double>(t_matched - t_extracted).count();

  // Metrics.
  std::vector<double> extract_ms;
  std::vector<std::size_t> bytes;
  for (const auto& im : result.images) {
    if (im.fta) {
      ++result.fta;
    } else {
      extract_ms.push_back(im.extract_ms);
      bytes.push_back(im.template_bytes);
    }
  }
  result.extract_ms_median = median_of(extract_ms);
  result.template_bytes = static_cast<std::size_t>(median_of(bytes));
  std::vector<double> all_match_us;
  for (const auto& v : match_us) all_match_us.insert(all_match_us.end(), v.begin(), v.end());
  result.match_us_median = median_of(all_match_us);

  LabelledScores labelled = label_scores(manifest, result.scores);
  if (labelled.genuine.empty() || labelled.impostor.empty())
    throw InvalidArgument("the manifest has no genuine or no impostor pairs: it needs at least two images of one "
                          "palm and two palms");
  for (const double target : {1e-2, 1e-3, 1e-4}) {
    CalibratedPoint c;
    c.target_fmr = target;
    c.threshold = Calibration::builtin().threshold_for_fmr(target);
    const auto accepted = std::count_if(labelled.impostor.begin(), labelled.impostor.end(),
                                        [&](double v) { return v >= c.threshold; });
    const auto rejected = std::count_if(labelled.genuine.begin(), labelled.genuine.end(),
                                        [&](double v) { return v < c.threshold; });
    c.fmr = static_cast<double>(accepted) / static_cast<double>(labelled.impostor.size());
    c.fnmr = static_cast<double>(rejected) / static_cast<double>(labelled.genuine.size());
    result.calibrated.push_back(c);
  }
  result.overall = verification_metrics(std::move(labelled.genuine), std::move(labelled.impostor));
  if (manifest.has_sessions()) {
    LabelledScores cross = label_scores(manifest, result.scores, true);
    if (!cross.genuine.empty())
      result.cross_session = verification_metrics(std::move(cross.genuine), std::move(cross.impostor));
  }
  result.rank1 = rank1_identification(manifest, result.scores);
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  return result;
}

}  // namespace v1
}  // namespace palmvein
