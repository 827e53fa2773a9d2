// SPDX-License-Identifier: Apache-2.0
// Enrolment policy and the default gallery search. Policy (docs/gallery.md): keep K samples of good
// quality whose every pair matches; a single disagreeing sample is dropped and re-captured, more
// disagreement fails the enrolment with the scores that show it.
#include "palmvein/enrollment.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>

#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/identification.hpp"
#include "palmvein/matcher.hpp"
#include "gallery_search_internal.hpp"

PALMVEIN_NAMESPACE_BEGIN

namespace {

std::string format_score(double score) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", score);
  return buffer;
}

}  // namespace

double default_consistency_threshold() {
  return Calibration::builtin().threshold_for_fmr(kEnrollmentConsistencyFmr);
}

void EnrollmentOptions::check() const {
  if (samples < 1 || samples > 16) throw InvalidArgument("enrolment: samples must be 1..16");
  if (max_frames < samples || max_frames > 100000)
    throw InvalidArgument("enrolment: max_frames must be at least samples (and at most 100000)");
  if (!(min_quality >= 0.0f && min_quality <= 1.0f)) throw InvalidArgument("enrolment: min_quality must be 0..1");
  if (!(consistency_threshold >= 0.0 && consistency_threshold <= 1.0))
    throw InvalidArgument("enrolment: consistency_threshold must be 0..1");
  if (max_outliers < 0 || max_outliers > 100) throw InvalidArgument("enrolment: max_outliers must be 0..100");
}

struct EnrollmentSession::Impl {
  const TemplateExtractor* extractor;
  EnrollmentOptions options;
  EnrollmentState state = EnrollmentState::Collecting;
  std::string failure;
  std::vector<Template> samples;
  std::vector<float> qualities;
  int frames = 0;
  int outliers = 0;
  std::map<std::string, int> problems;  // guidance message -> count, for the give-up reason

  double score(std::size_t i, std::size_t j) const { return match(samples[i], samples[j]); }

  void give_up(const std::string& why) {
    state = EnrollmentState::Failed;
    failure = why;
  }

  std::string most_common_problem() const {
    if (problems.empty()) return {};
    const auto it = std::max_element(problems.begin(), problems.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
    return "; most frequent problem: \"" + it->first + "\" (" + std::to_string(it->second) + " frames)";
  }

  // Called when K samples are held: checks every pair; returns a progress/failure message.
  std::string cross_check() {
    const std::size_t k = samples.size();
    std::vector<std::tuple<std::size_t, std::size_t, double>> failing;
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = i + 1; j < k; ++j)
        if (const double s = score(i, j); s < options.consistency_threshold) failing.emplace_back(i, j, s);
    if (failing.empty()) {
      // Best quality first: the first template is the one a caller should keep if it keeps only one.
      std::vector<std::size_t> order(k);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return qualities[a] > qualities[b]; });
      std::vector<Template> sorted;
      std::vector<float> q;
      for (const auto i : order) {
        sorted.push_back(samples[i]);
        q.push_back(qualities[i]);
      }
      samples = std::move(sorted);
      qualities = std::move(q);
      state = EnrollmentState::Complete;
      return "enrolment complete: " + std::to_string(k) + " consistent samples";
    }
    // A single outlier is the one sample present in every failing pair (needs K >= 3 to tell).
    std::optional<std::size_t> outlier;
    if (k >= 3) {
      for (std::size_t c = 0; c < k && !outlier; ++c) {
        const bool in_all = std::all_of(failing.begin(), failing.end(), [&](const auto& f) {
          return std::get<0>(f) == c || std::get<1>(f) == c;
        });
        if (in_all) outlier = c;
      }
    }
    const auto& [fi, fj, fs] = failing.front();
    const std::string evidence = "samples " + std::to_string(fi + 1) + " and " + std::to_string(fj + 1) +
                                 " score " + format_score(fs) + " < " + format_score(options.consistency_threshold);
    if (outlier && outliers < options.max_outliers) {
      ++outliers;
      samples.erase(samples.begin() + static_cast<std::ptrdiff_t>(*outlier));
      qualities.erase(qualities.begin() + static_cast<std::ptrdiff_t>(*outlier));
      return "sample " + std::to_string(*outlier + 1) + " disagreed with the others (" + evidence +
             "); discarded, present the same palm again";
    }
    give_up("the samples disagree (" + evidence + ", " + std::to_string(failing.size()) +
            " disagreeing pair(s), " + std::to_string(outliers) +
            " sample(s) already re-captured): present the same palm, the same hand, every time");
    return failure;
  }
};

EnrollmentSession::EnrollmentSession(const TemplateExtractor& extractor, EnrollmentOptions options)
    : impl_(std::make_unique<Impl>()) {
  options.check();
  impl_->extractor = &extractor;
  impl_->options = options;
}

EnrollmentSession::~EnrollmentSession() = default;
EnrollmentSession::EnrollmentSession(EnrollmentSession&&) noexcept = default;
EnrollmentSession& EnrollmentSession::operator=(EnrollmentSession&&) noexcept = default;

FrameFeedback EnrollmentSession::add(const Image& frame, ImageKind kind) {
  if (impl_->state != EnrollmentState::Collecting) throw InvalidArgument("enrolment: add() after the enrolment ended");
  return add(impl_->extractor->extract(frame, kind));
}

FrameFeedback EnrollmentSession::add(const ExtractResult& result) {
  Impl& s = *impl_;
  if (s.state != EnrollmentState::Collecting) throw InvalidArgument("enrolment: add() after the enrolment ended");
  FrameFeedback fb;
  ++s.frames;
  if (!result.ok()) {
    fb.failure = result.roi.failure();
    fb.message = std::string(guidance(fb.failure));
    ++s.problems[fb.message];
  } else {
    fb.quality = result.roi.roi().quality;
    if (fb.quality < s.options.min_quality) {
      fb.message = "image quality " + format_score(fb.quality) + " below " + format_score(s.options.min_quality) +
                   ": hold the palm still, flat and centred";
      ++s.problems["low image quality"];
    } else {
      fb.accepted = true;
      s.samples.push_back(*result.templ);
      s.qualities.push_back(fb.quality);
      fb.message = "sample " + std::to_string(s.samples.size()) + "/" + std::to_string(s.options.samples) + " accepted";
      if (static_cast<int>(s.samples.size()) == s.options.samples) fb.message = s.cross_check();
    }
  }
  if (s.state == EnrollmentState::Collecting && s.frames >= s.options.max_frames)
    s.give_up("gave up after " + std::to_string(s.frames) + " frames with " + std::to_string(s.samples.size()) + " of " +
              std::to_string(s.options.samples) + " good samples" + s.most_common_problem());
  fb.good = static_cast<int>(s.samples.size());
  fb.frames = s.frames;
  if (s.state == EnrollmentState::Failed && !fb.accepted) fb.message = s.failure;
  return fb;
}

void EnrollmentSession::finish_input() {
  Impl& s = *impl_;
  if (s.state != EnrollmentState::Collecting) return;
  s.give_up("the input ended after " + std::to_string(s.frames) + " frame(s) with " + std::to_string(s.samples.size()) +
            " of " + std::to_string(s.options.samples) + " good samples" + s.most_common_problem());
}

EnrollmentState EnrollmentSession::state() const noexcept { return impl_->state; }
const std::string& EnrollmentSession::failure_reason() const noexcept { return impl_->failure; }
const std::vector<Template>& EnrollmentSession::templates() const noexcept { return impl_->samples; }
int EnrollmentSession::frames_seen() const noexcept { return impl_->frames; }
const EnrollmentOptions& EnrollmentSession::options() const noexcept { return impl_->options; }

std::vector<std::vector<std::uint8_t>> EnrollmentSession::template_bytes() const {
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& t : impl_->samples) out.push_back(t.to_bytes());
  return out;
}

std::vector<double> EnrollmentSession::pairwise_scores() const {
  std::vector<double> out;
  for (std::size_t i = 0; i < impl_->samples.size(); ++i)
    for (std::size_t j = i + 1; j < impl_->samples.size(); ++j) out.push_back(impl_->score(i, j));
  return out;
}

std::string_view to_string(ScoreFusion fusion) noexcept { return fusion == ScoreFusion::Max ? "max" : "mean"; }

namespace {

// Scores every template with Matcher (exact; O(N) per probe). The 1:N engine replaces it for speed.
class LinearGallerySearch final : public GallerySearch {
 public:
  explicit LinearGallerySearch(ScoreFusion fusion) : fusion_(fusion) {}

  void load(const std::vector<StoredTemplate>& stored) override {
    std::vector<Entry> entries;
    std::map<std::pair<std::string, Hand>, std::size_t> slot;
    for (const auto& t : stored) {
      const auto key = std::make_pair(t.id, t.hand);
      auto [it, fresh] = slot.try_emplace(key, entries.size());
      if (fresh) entries.push_back(Entry{t.id, t.hand, {}});
      entries[it->second].templates.push_back(Template::from_bytes(t.bytes));
    }
    entries_ = std::move(entries);
  }

  std::vector<IdentityScore> rank(const Template& probe, std::size_t top_k) const override {
    const Matcher matcher(probe);
    std::vector<IdentityScore> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
      double fused = fusion_ == ScoreFusion::Max ? kLowestScore : 0.0;
      for (const auto& t : e.templates) {
        const double s = matcher.score(t);
        fused = fusion_ == ScoreFusion::Max ? std::max(fused, s) : fused + s;
      }
      if (fusion_ == ScoreFusion::Mean && !e.templates.empty()) fused /= static_cast<double>(e.templates.size());
      out.push_back(IdentityScore{e.id, e.hand, fused, static_cast<int>(e.templates.size()), std::nullopt, std::nullopt});
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    if (top_k != 0 && out.size() > top_k) out.resize(top_k);
    return out;
  }

  std::size_t template_count() const override {
    std::size_t n = 0;
    for (const auto& e : entries_) n += e.templates.size();
    return n;
  }

 private:
  struct Entry {
    std::string id;
    Hand hand;
    std::vector<Template> templates;
  };
  ScoreFusion fusion_;
  std::vector<Entry> entries_;
};

// Max fusion on the 1:N engine (identification.hpp): SIMD popcount over a structure-of-arrays index,
// scores identical to Matcher::score. The best template of each identity is its fused score, so the
// best `top_k * most templates per identity` entries always contain the top_k identities.
class IndexedGallerySearch final : public GallerySearch {
 public:
  IndexedGallerySearch() {
    IdentificationOptions options;
    options.strategy = SearchStrategy::Exhaustive;  // exact ranking: the gallery answers decisions
    index_ = std::make_unique<IdentificationIndex>(options);
  }

  void load(const std::vector<StoredTemplate>& stored) override {
    Loader loader(index_->options(), stored.size());
    for (const auto& t : stored) loader.add(t);
    take(std::move(loader));
  }

  void load_from(const Gallery& gallery) override {
    Loader loader(index_->options(), gallery.stored_template_count());
    gallery.for_each_template([&](StoredTemplate&& t) { loader.add(t); });  // one template in memory at a time
    take(std::move(loader));
  }

  std::vector<IdentityScore> rank(const Template& probe, std::size_t top_k) const override {
    if (identities_.empty()) return {};
    const std::size_t wanted = top_k == 0 ? identities_.size() : std::min(top_k, identities_.size());
    const std::size_t entries = std::min(index_->size(), wanted * static_cast<std::size_t>(max_templates_));
    std::vector<IdentityScore> out;
    std::vector<bool> seen(identities_.size(), false);
    for (const Candidate& c : index_->search(probe, entries)) {  // best first
      if (seen[c.id]) continue;
      seen[c.id] = true;
      const Identity& i = identities_[c.id];
      out.push_back(IdentityScore{i.id, i.hand, c.score, i.templates, std::nullopt, std::nullopt});
      if (out.size() == wanted) break;
    }
    return out;
  }

  std::size_t template_count() const override { return index_->size(); }

  // Every template of `gallery` into the search of its hand (detail::load_searches_by_hand).
  static std::array<std::unique_ptr<GallerySearch>, 3> load_by_hand(const Gallery& gallery) {
    std::array<std::optional<Loader>, 3> loaders;
    IdentificationOptions options;
    options.strategy = SearchStrategy::Exhaustive;
    gallery.for_each_template([&](StoredTemplate&& t) {
      std::optional<Loader>& loader = loaders[detail::hand_slot(t.hand)];
      if (!loader) loader.emplace(options, 0);
      loader->add(t);
    });
    std::array<std::unique_ptr<GallerySearch>, 3> out;
    for (std::size_t h = 0; h < loaders.size(); ++h) {
      if (!loaders[h]) continue;
      auto search = std::unique_ptr<IndexedGallerySearch>(new IndexedGallerySearch(std::move(*loaders[h])));
      out[h] = std::move(search);
    }
    return out;
  }

 private:
  struct Identity {
    std::string id;
    Hand hand;
    int templates;
  };
  // A new index being filled; it replaces the loaded one only when complete (a failed load keeps it).
  struct Loader {
    Loader(const IdentificationOptions& options, std::size_t expected) : index(std::make_unique<IdentificationIndex>(options)) {
      if (expected) index->reserve(expected);  // a large load grows no array (no copies, no doubled peak)
    }
    void add(const StoredTemplate& t) {
      auto [it, fresh] = slot.try_emplace(std::make_pair(t.id, t.hand), identities.size());
      if (fresh) identities.push_back(Identity{t.id, t.hand, 0});
      ++identities[it->second].templates;
      index->add(it->second, Template::from_bytes(t.bytes));
    }
    std::unique_ptr<IdentificationIndex> index;
    std::vector<Identity> identities;
    std::map<std::pair<std::string, Hand>, std::uint64_t> slot;
  };
  explicit IndexedGallerySearch(Loader&& loader) { take(std::move(loader)); }
  void take(Loader&& loader) {
    index_ = std::move(loader.index);
    identities_ = std::move(loader.identities);
    max_templates_ = 0;
    for (const auto& i : identities_) max_templates_ = std::max(max_templates_, i.templates);
  }

  std::unique_ptr<IdentificationIndex> index_;
  std::vector<Identity> identities_;
  int max_templates_ = 0;
};

}  // namespace

void GallerySearch::load_from(const Gallery& gallery) { load(gallery.all_templates()); }

std::array<std::unique_ptr<GallerySearch>, 3> detail::load_searches_by_hand(const Gallery& gallery) {
  return IndexedGallerySearch::load_by_hand(gallery);
}

std::unique_ptr<GallerySearch> make_gallery_search(ScoreFusion fusion) {
  if (fusion == ScoreFusion::Max) return std::make_unique<IndexedGallerySearch>();
  return std::make_unique<LinearGallerySearch>(fusion);
}

PALMVEIN_NAMESPACE_END
