// SPDX-License-Identifier: Apache-2.0
// The application flows, written once: 1:1 verification (a Matcher over one identity's templates)
// and 1:N identification (the 1:N engine over every template), each compared with a decision
// threshold. The CLI, the GUI and the demo call these.
#include <algorithm>

#include "palmvein/enrollment.hpp"
#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/matcher.hpp"

PALMVEIN_NAMESPACE_BEGIN

Verifier Verifier::load(const Gallery& gallery, std::string_view id, std::optional<Hand> hand) {
  const std::vector<StoredTemplate> stored = gallery.templates_of(id, hand);  // decrypts and authenticates
  if (stored.empty())
    throw GalleryError(GalleryFault::NotFound, "identity '" + escape_text(id) + "'" +
                                                   (hand ? " (hand " + std::string(to_string(*hand)) + ")" : std::string()) +
                                                   " is not enrolled in '" + gallery.path().string() + "'");
  Verifier v;
  v.id_ = std::string(id);
  v.hands_.reserve(stored.size());
  v.templates_.reserve(stored.size());
  for (const StoredTemplate& t : stored) {
    v.hands_.push_back(t.hand);
    v.templates_.push_back(Template::from_bytes(t.bytes));
  }
  return v;
}

VerificationResult Verifier::verify(const Template& probe, const DecisionThreshold& threshold) const {
  const Matcher matcher(probe);
  VerificationResult r;
  r.id = id_;
  r.threshold = threshold;
  r.templates_compared = templates_.size();
  r.score = kLowestScore;
  // Max fusion; on a tie the template listed first wins.
  bool first = true;
  for (std::size_t i = 0; i < templates_.size(); ++i) {
    const double s = matcher.score(templates_[i]);
    if (first || s > r.score) {
      r.score = s;
      r.hand = hands_[i];
      first = false;
    }
  }
  r.accepted = r.score >= threshold.score;
  return r;
}

Identifier::Identifier(std::unique_ptr<GallerySearch> search) : search_(std::move(search)) {}

Identifier Identifier::load(const Gallery& gallery) {
  auto search = make_gallery_search(ScoreFusion::Max);
  search->load_from(gallery);  // decrypts and authenticates everything, streamed into the index
  return Identifier(std::move(search));
}

IdentificationResult Identifier::identify(const Template& probe, const DecisionThreshold& threshold, std::size_t k) const {
  IdentificationResult r;
  r.threshold = threshold;
  r.templates_compared = search_->template_count();
  r.candidates = search_->rank(probe, k);
  if (!r.candidates.empty() && r.candidates.front().score >= threshold.score) r.identity = r.candidates.front();
  return r;
}

std::size_t Identifier::template_count() const { return search_->template_count(); }

VerificationResult Gallery::verify(std::string_view id, std::optional<Hand> hand, const Template& probe,
                                   const DecisionThreshold& threshold) const {
  return Verifier::load(*this, id, hand).verify(probe, threshold);
}

IdentificationResult Gallery::identify(const Template& probe, const DecisionThreshold& threshold, std::size_t k) const {
  return Identifier::load(*this).identify(probe, threshold, k);
}

PALMVEIN_NAMESPACE_END
