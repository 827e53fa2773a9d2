// SPDX-License-Identifier: Apache-2.0
// palmvein demo: the headless end-to-end demonstration. Enrols several synthetic people from the
// virtual sensor into a gallery file, makes genuine and impostor verification attempts, identifies
// enrolled and unknown people, and prints a short table (attempts, accepted, rejected, timings).
// --two-hands enrols both palms of each person and verifies and identifies with both (PersonProbe).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gallery_cli.hpp"
#include "palmvein/error.hpp"
#include "palmvein/sensor.hpp"

namespace palmvein::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoArgs {
  GalleryArgs gallery;
  ThresholdArgs threshold;
  int people = 5;
  int samples = 3;
  int attempts = 2;
  std::uint64_t seed = 0;
  bool two_hands = false;
  bool json = false;
};

// One row of the summary table.
struct Row {
  Row(std::string n, std::string label) : name(std::move(n)), yes_label(std::move(label)) {}
  std::string name;
  std::string yes_label;  // "accepted" / "found" / "enrolled"
  int attempts = 0;
  int yes = 0;
  int no = 0;
  int errors = 0;  // failures to capture or enrol
  std::vector<double> ms;
  int expected_yes = 0;  // how many "yes" answers were right
  void add_ms(double v) { ms.push_back(v); }
  double median_ms() const {
    if (ms.empty()) return 0;
    auto v = ms;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  }
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The virtual sensor for synthetic palm `palm`, starting at capture index `start` (different
// indices are different captures: pose, exposure, blur and noise change; the veins do not).
std::string palm_uri(int palm, std::uint64_t seed, int start) {
  return "virtual:?palm=" + std::to_string(palm) + "&seed=" + std::to_string(seed) + "&start=" +
         std::to_string(start) + "&fps=0";
}

std::string person_id(int p) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "person-%02d", p);
  return buffer;
}

std::optional<Template> probe_of(int palm, std::uint64_t seed, int start, const TemplateExtractor& extractor,
                                 char hand = 'L') {
  InputArgs in;
  in.sensor = palm_uri(palm, seed, start) + "&hand=" + hand;
  auto source = open_frames(in);
  std::string reason;
  return capture_probe(*source, extractor, 30, true, reason);
}

// A person's probe: the left palm, and with `two_hands` the right palm too; nothing if a palm fails.
std::optional<PersonProbe> person_probe_of(int palm, std::uint64_t seed, int start, const TemplateExtractor& extractor,
                                           bool two_hands) {
  PersonProbe person;
  person.left = probe_of(palm, seed, start, extractor, 'L');
  if (!person.left) return std::nullopt;
  if (two_hands) {
    person.right = probe_of(palm, seed, start, extractor, 'R');
    if (!person.right) return std::nullopt;
  }
  return person;
}

int run_demo(const DemoArgs& a) {
  const DecisionThreshold threshold = a.two_hands ? resolve_two_hand_threshold(a.threshold) : resolve_threshold(a.threshold);
  std::fprintf(stderr, "palmvein demo: %d synthetic people (%s) from the virtual sensor -> gallery '%s'\n", a.people,
               a.two_hands ? "both hands" : "left hands", a.gallery.db.c_str());
  Gallery gallery = open_gallery(a.gallery, true);
  const TemplateExtractor extractor;
  EnrollmentOptions options;
  options.samples = a.samples;
  options.max_frames = 60;

  Row enrol{"enrol", "enrolled"}, genuine{"verify, genuine", "accepted"}, impostor{"verify, impostor", "accepted"},
      ident_known{"identify, enrolled", "found"}, ident_unknown{"identify, unknown", "found"};
  double genuine_min = 1, impostor_max = 0;
  std::vector<int> enrolled;

  // 1. Enrolment: K consistent samples per palm, one transaction per person (both palms with --two-hands).
  for (int p = 1; p <= a.people; ++p) {
    const auto start = Clock::now();
    ++enrol.attempts;
    std::vector<EnrollRequest> requests;
    for (const char hand : a.two_hands ? std::string("LR") : std::string("L")) {
      InputArgs in;
      in.sensor = palm_uri(p, a.seed, 0) + "&hand=" + hand;
      auto source = open_frames(in);
      EnrollmentSession session(extractor, options);
      while (session.state() == EnrollmentState::Collecting) session.add(*source->next(), source->kind());
      if (session.state() != EnrollmentState::Complete) {
        std::fprintf(stderr, "  %s: enrolment (hand %c) failed: %s\n", person_id(p).c_str(), hand,
                     session.failure_reason().c_str());
        requests.clear();
        break;
      }
      EnrollRequest request;
      request.id = person_id(p);
      request.display_name = (a.two_hands ? "Synthetic person " : "Synthetic palm ") + std::to_string(p);
      request.hand = hand == 'L' ? Hand::Left : Hand::Right;
      request.mode = EnrollMode::Replace;  // a re-run replaces the demo people
      request.algorithm = session.templates().front().algorithm();
      request.templates = session.template_bytes();
      requests.push_back(std::move(request));
    }
    if (requests.empty()) {
      ++enrol.errors;
      ++enrol.no;
      continue;
    }
    gallery.enroll(requests);
    enrol.add_ms(ms_since(start));
    ++enrol.yes;
    ++enrol.expected_yes;
    enrolled.push_back(p);
  }

  const Identifier identifier = Identifier::load(gallery);

  // 2. Verification: the person's own palm (genuine) and the next enrolled person's palm (impostor).
  for (const int p : enrolled) {
    const Verifier own = Verifier::load(gallery, person_id(p));
    for (int t = 0; t < a.attempts; ++t) {
      for (const bool is_genuine : {true, false}) {
        Row& row = is_genuine ? genuine : impostor;
        const int presenter = is_genuine ? p : enrolled[(std::find(enrolled.begin(), enrolled.end(), p) - enrolled.begin() + 1) %
                                                        static_cast<std::ptrdiff_t>(enrolled.size())];
        if (!is_genuine && presenter == p) continue;  // a one-person gallery has no impostor
        const auto start = Clock::now();
        ++row.attempts;
        const auto probe = person_probe_of(presenter, a.seed, 100 + t, extractor, a.two_hands);
        if (!probe) {
          ++row.errors;
          ++row.no;
          continue;
        }
        const VerificationResult result = a.two_hands ? own.verify(*probe, threshold) : own.verify(*probe->left, threshold);
        row.add_ms(ms_since(start));
        (result.accepted ? row.yes : row.no)++;
        if (result.accepted == is_genuine) ++row.expected_yes;
        if (is_genuine) genuine_min = std::min(genuine_min, result.score);
        else impostor_max = std::max(impostor_max, result.score);
      }
    }
  }

  // 3. Identification: enrolled people (should be found, as themselves) and unknown palms (should not).
  for (int p = 1; p <= a.people; ++p) {
    for (const bool known : {true, false}) {
      Row& row = known ? ident_known : ident_unknown;
      const int palm = known ? p : 1000 + p;
      if (known && std::find(enrolled.begin(), enrolled.end(), p) == enrolled.end()) continue;
      const auto start = Clock::now();
      ++row.attempts;
      const auto probe = person_probe_of(palm, a.seed, 200, extractor, a.two_hands);
      if (!probe) {
        ++row.errors;
        ++row.no;
        continue;
      }
      const IdentificationResult result =
          a.two_hands ? identifier.identify(*probe, threshold) : identifier.identify(*probe->left, threshold);
      row.add_ms(ms_since(start));
      (result.found() ? row.yes : row.no)++;
      if (known ? (result.found() && result.identity->id == person_id(p)) : !result.found()) ++row.expected_yes;
      if (!known) impostor_max = std::max(impostor_max, result.candidates.empty() ? 0.0 : result.candidates.front().score);
    }
  }

  const std::vector<const Row*> rows{&enrol, &genuine, &impostor, &ident_known, &ident_unknown};
  if (a.json) {
    nlohmann::json j;
    j["gallery"] = a.gallery.db;
    j["people"] = a.people;
    j["hands"] = a.two_hands ? "both" : "left";
    j["threshold"] = a.two_hands ? two_hand_threshold(threshold).score : threshold.score;
    if (threshold.fmr) j["fmr"] = *threshold.fmr;
    j["genuine_min_score"] = genuine_min;
    j["impostor_max_score"] = impostor_max;
    for (const Row* r : rows)
      j["rows"].push_back({{"step", r->name}, {"attempts", r->attempts}, {r->yes_label, r->yes}, {"rejected", r->no},
                           {"capture_failures", r->errors}, {"correct", r->expected_yes}, {"median_ms", r->median_ms()}});
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("\npalmvein demo — %zu of %d synthetic people enrolled (%s, %d samples each) in '%s'\n", enrolled.size(),
              a.people, a.two_hands ? "both hands" : "left hand", a.samples, a.gallery.db.c_str());
  const DecisionThreshold shown = a.two_hands ? two_hand_threshold(threshold) : threshold;
  std::printf("threshold %s%s; genuine scores >= %s, impostor scores <= %s\n\n", format_score(shown.score).c_str(),
              rule_text(shown, a.two_hands).c_str(), format_score(genuine_min).c_str(), format_score(impostor_max).c_str());
  std::printf("%-20s %8s %9s %9s %8s %10s\n", "step", "attempts", "accepted", "rejected", "correct", "median ms");
  for (const Row* r : rows)
    std::printf("%-20s %8d %9d %9d %8d %10.1f\n", r->name.c_str(), r->attempts, r->yes, r->no, r->expected_yes,
                r->median_ms());
  std::printf("\n(accepted = enrolled / accepted / found; correct = the answer a perfect system gives;\n"
              " timings include rendering the synthetic frame, extraction and matching)\n");
  return kExitOk;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "Headless demo: enrol synthetic people, verify, identify, print a summary");
  add_gallery_args(cmd, args->gallery);
  cmd->add_option("--people", args->people, "Synthetic people to enrol")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--samples", args->samples, "Samples per enrolment")->capture_default_str()->check(CLI::Range(1, 16));
  cmd->add_option("--attempts", args->attempts, "Genuine and impostor attempts per person")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--seed", args->seed, "Synthetic data-set seed (another seed: other people)")->capture_default_str();
  cmd->add_flag("--two-hands", args->two_hands,
                "Enrol both palms of each person and verify and identify with both (min fusion; --fmr is per person)");
  add_threshold_args(cmd, args->threshold);
  cmd->add_flag("--json", args->json, "Print the summary as JSON");
  cmd->callback([args, &exit_code] { exit_code = run_demo(*args); });
}

}  // namespace palmvein::cli
