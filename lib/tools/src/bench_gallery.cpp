// SPDX-License-Identifier: Apache-2.0
#include "palmvein_tools/bench_gallery.hpp"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "palmvein/thread_pool.hpp"
#include "palmvein/error.hpp"
#include "palmvein/extractor.hpp"

namespace palmvein::tools {

void BenchGalleryOptions::check() const {
  mosaic.check();
  if (size < 1 || size > 100'000'000) throw InvalidArgument("bench gallery: size must be 1..100000000");
  if (probes > size) throw InvalidArgument("bench gallery: more probes than gallery entries");
  if (absent_probes > 100'000) throw InvalidArgument("bench gallery: absent_probes must be 0..100000");
  if (source_palms < 2 || source_palms > 100'000) throw InvalidArgument("bench gallery: source_palms must be 2..100000");
  if (threads > 1024) throw InvalidArgument("bench gallery: threads must be 0..1024");
}

namespace {

constexpr std::uint64_t kMateIdBase = 1'000'000'000;
// Palm numbers of the mosaic sources start here (the probe palms are 0 .. probes-1).
constexpr std::uint64_t kSourcePalmBase = 1'000'000;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}


// Templates of `count` palms from `first_palm` on, each at the given captures. A palm whose
// captures do not all give a template is replaced by the next palm number (up to a limit).
std::vector<std::vector<Template>> render_palms(std::uint64_t first_palm, std::size_t count,
                                                const std::vector<std::uint64_t>& captures, ThreadPool& pool,
                                                const BenchGalleryOptions& o, const PalmRenderer& render,
                                                std::size_t& failures) {
  std::vector<std::vector<Template>> out(count);
  std::atomic<std::size_t> next_slot{0};
  std::atomic<std::uint64_t> next_spare{first_palm + count};
  std::atomic<std::size_t> fta{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  const TemplateExtractor extractor;
  const std::uint64_t spare_limit = first_palm + count + count / 2 + 10;
  pool.parallel_for(pool.workers() + 1, [&](unsigned) {
    try {
      for (;;) {
        const std::size_t slot = next_slot.fetch_add(1);
        if (slot >= count) return;
        std::uint64_t palm = first_palm + slot;
        for (;;) {
          std::vector<Template> got;
          for (std::uint64_t c : captures) {
            const ExtractResult r = extractor.extract(render(palm, c), o.kind);
            if (!r.ok()) break;
            got.push_back(*r.templ);
          }
          if (got.size() == captures.size()) {
            out[slot] = std::move(got);
            break;
          }
          ++fta;
          palm = next_spare.fetch_add(1);
          if (palm >= spare_limit)
            throw Error("bench gallery: too many rendered palms gave no template (" + std::to_string(fta.load()) +
                        " failures to acquire)");
        }
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next_slot = count;
    }
  });
  if (error) std::rethrow_exception(error);
  failures += fta.load();
  return out;
}

}  // namespace

BenchGallery build_bench_gallery(IdentificationIndex& index, const BenchGalleryOptions& o, const PalmRenderer& render) {
  o.check();
  ThreadPool pool(ThreadPool::lanes_for(o.threads) - 1);  // and this thread
  BenchGallery g;
  auto t0 = std::chrono::steady_clock::now();
  const auto probe_palms = render_palms(0, o.probes, {0, 1}, pool, o, render, g.failures_to_acquire);
  // Absent palms: numbers between the probes' and the sources' (never enrolled, never cut).
  const auto absent_palms = render_palms(kSourcePalmBase / 2, o.absent_probes, {1}, pool, o, render,
                                         g.failures_to_acquire);
  const auto source_palms = render_palms(kSourcePalmBase, o.source_palms, {0}, pool, o, render, g.failures_to_acquire);
  g.render_seconds = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  std::vector<Template> sources;
  for (const auto& p : source_palms) sources.push_back(p.front());
  const MosaicMaker maker(std::move(sources), o.mosaic);
  index.clear();
  if (!o.keep) index.reserve(o.size);
  // Mates at evenly spread positions.
  std::vector<std::size_t> mate_at(o.probes);
  for (std::size_t i = 0; i < o.probes; ++i) mate_at[i] = (2 * i + 1) * o.size / (2 * o.probes);
  // Mosaics are made in parallel batches and added in order (add() is exclusive).
  constexpr std::size_t kBatch = 4096;
  std::vector<std::optional<Template>> batch(kBatch);
  std::size_t next_mate = 0;
  for (std::size_t start = 0; start < o.size; start += kBatch) {
    const std::size_t n = std::min(kBatch, o.size - start);
    std::atomic<std::size_t> next{0};
    pool.parallel_for(pool.workers() + 1, [&](unsigned) {
      for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1))
        if (!o.keep || o.keep(start + i)) batch[i] = maker.make(start + i);
    });
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t entry = start + i;
      if (next_mate < o.probes && mate_at[next_mate] == entry) {
        if (!o.keep || o.keep(kMateIdBase + next_mate)) index.add(kMateIdBase + next_mate, probe_palms[next_mate][0]);
        ++next_mate;
      } else if (batch[i]) {
        index.add(entry, *batch[i]);
      }
      batch[i].reset();
    }
  }
  for (const auto& p : absent_palms) g.absent_probes.push_back(p.front());
  for (std::size_t i = 0; i < o.probes; ++i) {
    g.probes.push_back(probe_palms[i][1]);
    g.mate_ids.push_back(kMateIdBase + i);
  }
  g.fill_seconds = seconds_since(t0);
  return g;
}

Image drawn_palm_roi(std::uint64_t palm, std::uint64_t capture) {
  cv::RNG shape(palm * 7919u + 13u);
  cv::RNG cap(palm * 104729u + capture * 31u + 1u);
  cv::Mat img(128, 128, CV_8U, cv::Scalar(170));
  const double ox = cap.uniform(-2.0, 2.0), oy = cap.uniform(-2.0, 2.0);
  for (int v = 0; v < 9; ++v) {
    cv::Point2d p(shape.uniform(0.0, 128.0), shape.uniform(0.0, 128.0));
    double angle = shape.uniform(0.0, 6.283);
    const int thickness = shape.uniform(2, 5);
    for (int step = 0; step < 14; ++step) {
      angle += shape.uniform(-0.4, 0.4);
      const cv::Point2d q = p + cv::Point2d(std::cos(angle), std::sin(angle)) * 9.0;
      cv::line(img, cv::Point(cvRound(p.x + ox), cvRound(p.y + oy)), cv::Point(cvRound(q.x + ox), cvRound(q.y + oy)),
               cv::Scalar(95), thickness, cv::LINE_AA);
      p = q;
    }
  }
  cv::GaussianBlur(img, img, cv::Size(0, 0), 1.5);
  cv::Mat noise(img.size(), CV_16S), out;
  cap.fill(noise, cv::RNG::NORMAL, 0, 6);
  img.convertTo(out, CV_16S);
  out += noise;
  out.convertTo(out, CV_8U);
  return Image::from_gray8(out.cols, out.rows, out.data, out.step);
}

std::size_t resident_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return static_cast<std::size_t>(std::stoull(line.substr(6))) * 1024;
  return 0;
}

}  // namespace palmvein::tools
