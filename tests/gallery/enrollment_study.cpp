// SPDX-License-Identifier: Apache-2.0
// Measurement behind the enrolment policy in docs/gallery.md (not a ctest: it takes a minute).
// Synthetic palms from the virtual sensor's renderer: each palm is enrolled with EnrollmentSession
// from captures 0.., then probed with captures 1000.. (other poses, exposure, blur, noise). Genuine
// scores: probe vs its own identity; impostor scores: probe vs every other identity. Compares how an
// identity's templates become one score: one template only, max over K, mean over K.
//
//   gallery_enrollment_study [palms=40] [probes=4] [vary=1]   (vary scales the capture variation, as the
//   virtual sensor's ?vary= does)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "palmvein/enrollment.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/synthetic.hpp"

using namespace palmvein;

namespace {

struct Rates {
  double eer = 0;
  double fnmr_at_1e2 = 0;
  double fnmr_at_1e3 = 0;
};

double fnmr_at(const std::vector<double>& genuine, std::vector<double> impostor, double fmr) {
  std::sort(impostor.begin(), impostor.end(), std::greater<>());
  // Threshold: the smallest score with at most fmr * N impostors at or above it.
  const auto allowed = static_cast<std::size_t>(fmr * static_cast<double>(impostor.size()));
  const double threshold = allowed < impostor.size() ? std::nextafter(impostor[allowed], 2.0) : 0.0;
  const auto below = std::count_if(genuine.begin(), genuine.end(), [&](double s) { return s < threshold; });
  return static_cast<double>(below) / static_cast<double>(genuine.size());
}

double eer(const std::vector<double>& genuine, const std::vector<double>& impostor) {
  double best = 1, best_gap = 2;
  for (int i = 0; i <= 1000; ++i) {
    const double t = i / 1000.0;
    const double fnmr = static_cast<double>(std::count_if(genuine.begin(), genuine.end(), [&](double s) { return s < t; })) /
                        static_cast<double>(genuine.size());
    const double fmr = static_cast<double>(std::count_if(impostor.begin(), impostor.end(), [&](double s) { return s >= t; })) /
                       static_cast<double>(impostor.size());
    if (std::abs(fnmr - fmr) < best_gap) best_gap = std::abs(fnmr - fmr), best = (fnmr + fmr) / 2;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int palms = argc > 1 ? std::atoi(argv[1]) : 40;
  const int probes = argc > 2 ? std::atoi(argv[2]) : 4;
  const TemplateExtractor extractor;
  const double vary = argc > 3 ? std::atof(argv[3]) : 1.0;
  SyntheticFrameSettings settings;
  SyntheticVariation& v = settings.variation;
  v.translate *= vary, v.scale *= vary, v.rotate_deg *= vary, v.tilt_deg *= vary, v.spread *= vary, v.exposure *= vary;
  v.blur_max *= std::min(vary, 1.0);
  EnrollmentOptions options;
  options.samples = 5;
  options.consistency_threshold = 0;  // measure raw fusion; consistency is studied separately below

  struct Enrolled {
    std::vector<Template> templates;  // best quality first
    std::vector<Template> probes;
  };
  std::vector<Enrolled> people;
  int enrol_failures = 0, probe_failures = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int p = 1; p <= palms; ++p) {
    const SyntheticPalm palm(SyntheticPalmId{static_cast<std::uint64_t>(p), Hand::Left, 0}, settings.width, settings.height);
    EnrollmentSession session(extractor, options);
    for (std::uint64_t i = 0; session.state() == EnrollmentState::Collecting; ++i) {
      if (i == static_cast<std::uint64_t>(options.max_frames)) session.finish_input();
      else session.add(palm.render(i, settings));
    }
    if (session.state() != EnrollmentState::Complete) {
      ++enrol_failures;
      continue;
    }
    Enrolled e;
    e.templates = session.templates();
    for (std::uint64_t i = 1000; static_cast<int>(e.probes.size()) < probes && i < 1100; ++i) {
      auto r = extractor.extract(palm.render(i, settings), ImageKind::FullHand);
      if (r.ok()) e.probes.push_back(*r.templ);
      else ++probe_failures;
    }
    people.push_back(std::move(e));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // strategy name -> (genuine, impostor)
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> scores;
  auto add = [&](const std::string& name, bool genuine, double s) {
    (genuine ? scores[name].first : scores[name].second).push_back(s);
  };
  for (std::size_t a = 0; a < people.size(); ++a)
    for (const auto& probe : people[a].probes) {
      const Matcher m(probe);
      for (std::size_t b = 0; b < people.size(); ++b) {
        std::vector<double> s;
        for (const auto& t : people[b].templates) s.push_back(m.score(t));
        const bool genuine = a == b;
        add("1 template (best quality)", genuine, s[0]);
        for (const std::size_t k : {3u, 5u}) {
          const auto first = s.begin(), last = s.begin() + static_cast<std::ptrdiff_t>(k);
          add("max of " + std::to_string(k), genuine, *std::max_element(first, last));
          double mean = 0;
          for (auto it = first; it != last; ++it) mean += *it;
          add("mean of " + std::to_string(k), genuine, mean / static_cast<double>(k));
        }
      }
    }

  // Consistency of enrolment samples: pairwise scores within one enrolment vs across people.
  std::vector<double> within, across;
  for (std::size_t a = 0; a < people.size(); ++a)
    for (std::size_t i = 0; i < people[a].templates.size(); ++i) {
      for (std::size_t j = i + 1; j < people[a].templates.size(); ++j)
        within.push_back(match(people[a].templates[i], people[a].templates[j]));
      if (a + 1 < people.size()) across.push_back(match(people[a].templates[i], people[a + 1].templates[i]));
    }

  std::printf("synthetic palms: %zu enrolled (%d enrolment failures), %d probes each (%d probe captures failed the ROI); %.1f s\n",
              people.size(), enrol_failures, probes, probe_failures, seconds);
  std::printf("vary %.2f\n%-28s %8s %8s %9s %10s %12s %8s %8s %7s\n", vary, "identity score", "genuine", "impostor", "EER",
              "FNMR@1e-2", "FNMR@1e-3", "gen min", "imp max", "d'");
  for (const auto& [name, gi] : scores) {
    const auto& [g, im] = gi;
    auto mean_sd = [](const std::vector<double>& x) {
      double m = 0, q = 0;
      for (const double s : x) m += s;
      m /= static_cast<double>(x.size());
      for (const double s : x) q += (s - m) * (s - m);
      return std::make_pair(m, std::sqrt(q / static_cast<double>(x.size())));
    };
    const auto [gm, gs] = mean_sd(g);
    const auto [imm, is] = mean_sd(im);
    std::printf("%-28s %8zu %8zu %8.2f%% %9.2f%% %11.2f%% %8.3f %8.3f %7.2f\n", name.c_str(), g.size(), im.size(),
                100 * eer(g, im), 100 * fnmr_at(g, im, 1e-2), 100 * fnmr_at(g, im, 1e-3),
                *std::min_element(g.begin(), g.end()), *std::max_element(im.begin(), im.end()),
                (gm - imm) / std::sqrt((gs * gs + is * is) / 2));
  }
  std::sort(within.begin(), within.end());
  std::sort(across.begin(), across.end());
  std::printf("enrolment sample pairs: within one enrolment min %.3f median %.3f; across people median %.3f max %.3f\n",
              within.front(), within[within.size() / 2], across[across.size() / 2], across.back());
  return 0;
}
