// SPDX-License-Identifier: Apache-2.0
// Open-set identification (1:N): the searches a drawn gallery makes, FPIR/FNIR, the CMC, and the
// generalised Pareto tail model of FPIR at gallery sizes beyond the data (see evaluation.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>

#include "evaluation/manifest_csv.hpp"
#include "evaluation/thresholds.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

namespace palmvein {
inline namespace v1 {

// ---------------------------------------------------------------------------------------------
// Metrics.

void SearchScores::check() const {
  if (probe_identity.size() != mate.size()) throw InvalidArgument("search scores: one identity per probe needed");
  if (scores.size() != mate.size() * identities) throw InvalidArgument("search scores: the matrix is not probes x identities");
  for (const auto m : mate)
    if (m < -1 || m >= static_cast<std::int64_t>(identities)) throw InvalidArgument("search scores: a mate column is out of range");
}

OpenSetScores open_set_scores(const SearchScores& s) {
  s.check();
  OpenSetScores out;
  out.impostor.reserve(s.scores.size());
  for (std::size_t p = 0; p < s.probes(); ++p) {
    const double* row = s.scores.data() + p * s.identities;
    if (s.mate[p] < 0) {
      if (s.identities == 0) continue;
      out.nonmated_best.push_back(*std::max_element(row, row + s.identities));
      out.impostor.insert(out.impostor.end(), row, row + s.identities);
      continue;
    }
    const auto mate = static_cast<std::size_t>(s.mate[p]);
    MatedSearch m;
    m.mate_score = row[mate];
    m.mate_rank = 1;
    for (std::size_t c = 0; c < s.identities; ++c) {
      if (c == mate) continue;
      if (row[c] >= m.mate_score) ++m.mate_rank;  // ties count against the mate
    }
    out.mated.push_back(m);
  }
  return out;
}

const FnirAtFpir& OpenSetMetrics::at(double target) const {
  for (const auto& f : fnir_at_fpir)
    if (f.target_fpir == target) return f;
  throw InvalidArgument("no FNIR at FPIR=" + std::to_string(target) + " in these metrics");
}

namespace {

void check_open_set(const OpenSetScores& s, std::size_t candidate_list) {
  if (s.mated.empty() || s.nonmated_best.empty())
    throw InvalidArgument("open-set metrics need mated and non-mated searches");
  if (candidate_list == 0) throw InvalidArgument("the candidate list must hold at least one candidate");
}

// A mated search is a hit at threshold t with a list of `rank` candidates.
bool hit(const MatedSearch& m, double t, std::size_t rank) { return m.mate_rank <= rank && m.mate_score >= t; }

}  // namespace

OpenSetMetrics open_set_metrics(const OpenSetScores& s, std::size_t candidate_list, std::size_t cmc_ranks) {
  check_open_set(s, candidate_list);
  if (cmc_ranks == 0) throw InvalidArgument("the CMC needs at least one rank");
  std::vector<double> nonmated = s.nonmated_best;
  std::sort(nonmated.begin(), nonmated.end());
  const double nm = static_cast<double>(nonmated.size()), m = static_cast<double>(s.mated.size());
  OpenSetMetrics out;
  out.mated_probes = s.mated.size();
  out.nonmated_probes = nonmated.size();
  out.candidate_list = candidate_list;
  for (const double target : kReportedFpirs) {
    FnirAtFpir f;
    f.target_fpir = target;
    f.threshold = internal::threshold_for_rate(nonmated, target);
    const auto accepted = nonmated.end() - std::lower_bound(nonmated.begin(), nonmated.end(), f.threshold);
    f.fpir = static_cast<double>(accepted) / nm;
    const auto rank1 = std::count_if(s.mated.begin(), s.mated.end(), [&](const MatedSearch& x) { return hit(x, f.threshold, 1); });
    const auto listed = std::count_if(s.mated.begin(), s.mated.end(),
                                      [&](const MatedSearch& x) { return hit(x, f.threshold, candidate_list); });
    f.fnir = 1 - static_cast<double>(rank1) / m;
    f.fnir_list = 1 - static_cast<double>(listed) / m;
    f.reliable = nm * target >= 10;
    out.fnir_at_fpir.push_back(f);
  }
  out.cmc = cmc_curve(s, cmc_ranks);
  return out;
}

std::vector<double> cmc_curve(const OpenSetScores& s, std::size_t ranks) {
  if (s.mated.empty()) throw InvalidArgument("the CMC needs mated searches");
  if (ranks == 0) throw InvalidArgument("the CMC needs at least one rank");
  const double m = static_cast<double>(s.mated.size());
  std::vector<double> cmc;
  for (std::size_t k = 1; k <= ranks; ++k) {
    const auto found = std::count_if(s.mated.begin(), s.mated.end(), [&](const MatedSearch& x) { return x.mate_rank <= k; });
    cmc.push_back(static_cast<double>(found) / m);
  }
  return cmc;
}

std::vector<OpenSetPoint> open_set_curve(const OpenSetScores& s, std::size_t candidate_list) {
  check_open_set(s, candidate_list);
  // Descending lists: non-mated best scores, mate scores of rank-1 hits, of list hits.
  std::vector<double> nonmated = s.nonmated_best, rank1, listed, thresholds;
  for (const auto& m : s.mated) {
    if (m.mate_rank <= 1) rank1.push_back(m.mate_score);
    if (m.mate_rank <= candidate_list) listed.push_back(m.mate_score);
  }
  for (auto* v : {&nonmated, &rank1, &listed}) std::sort(v->begin(), v->end(), std::greater<>());
  thresholds = nonmated;
  for (const auto& m : s.mated) thresholds.push_back(m.mate_score);
  std::sort(thresholds.begin(), thresholds.end(), std::greater<>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  const double nm = static_cast<double>(nonmated.size()), mm = static_cast<double>(s.mated.size());
  std::vector<OpenSetPoint> curve;
  curve.reserve(thresholds.size());
  std::size_t a = 0, b = 0, c = 0;  // entries >= t in each list
  for (const double t : thresholds) {
    while (a < nonmated.size() && nonmated[a] >= t) ++a;
    while (b < rank1.size() && rank1[b] >= t) ++b;
    while (c < listed.size() && listed[c] >= t) ++c;
    curve.push_back({t, static_cast<double>(a) / nm, 1 - static_cast<double>(b) / mm, 1 - static_cast<double>(c) / mm});
  }
  return curve;
}

std::vector<DetPoint> open_set_det(std::span<const OpenSetPoint> curve, bool list) {
  std::vector<DetPoint> out;
  out.reserve(curve.size());
  for (const auto& p : curve) out.push_back({p.threshold, p.fpir, list ? p.fnir_list : p.fnir});
  return out;
}

// ---------------------------------------------------------------------------------------------
// The generalised Pareto tail.

TailModel TailModel::fit(std::vector<double> impostor, double tail_fraction, TailShape shape) {
  if (!(tail_fraction > 0 && tail_fraction <= 0.5)) throw InvalidArgument("tail fraction must be in (0, 0.5]");
  constexpr std::size_t kMinExceedances = 50;
  TailModel m;
  m.sorted_ = std::move(impostor);
  std::sort(m.sorted_.begin(), m.sorted_.end());
  const std::size_t n = m.sorted_.size();
  const auto k = std::max(kMinExceedances, static_cast<std::size_t>(std::ceil(tail_fraction * static_cast<double>(n))));
  if (2 * k > n)
    throw InvalidArgument("tail model: " + std::to_string(k) + " exceedances of " + std::to_string(n) +
                          " impostor scores: at least " + std::to_string(kMinExceedances) + " and at most half needed");
  m.u_ = m.sorted_[n - k - 1];
  // Exceedances y = x - u of the scores strictly above u (quantized scores tie), ascending.
  const auto first = std::upper_bound(m.sorted_.begin(), m.sorted_.end(), m.u_);
  const auto e = static_cast<std::size_t>(m.sorted_.end() - first);
  if (e < kMinExceedances) throw InvalidArgument("tail model: too few scores above the tail threshold (ties)");
  // Probability-weighted moments (Hosking & Wallis 1987, unbiased estimators):
  //   a0 = mean(y), a1 = (1/e) sum_j y_(j) (e - j) / (e - 1), j = 1..e ascending;
  //   k = a0 / (a0 - 2 a1) - 2, sigma = 2 a0 a1 / (a0 - 2 a1), and xi = -k in the
  //   P(Y > y) = (1 + xi y / sigma)^(-1/xi) convention.
  double a0 = 0, a1 = 0;
  for (std::size_t j = 0; j < e; ++j) {
    const double y = first[static_cast<std::ptrdiff_t>(j)] - m.u_;
    a0 += y;
    a1 += y * static_cast<double>(e - 1 - j) / static_cast<double>(e - 1);
  }
  a0 /= static_cast<double>(e);
  a1 /= static_cast<double>(e);
  const double d = a0 - 2 * a1;
  if (!(d > 0)) throw InvalidArgument("tail model: the exceedances have no spread");
  const double hosking_k = a0 / d - 2;
  m.sigma_ = shape == TailShape::Fitted ? 2 * a0 * a1 / d : a0;
  m.xi_ = shape == TailShape::Fitted ? -hosking_k : 0.0;
  if (!(m.sigma_ > 0) || !(m.xi_ < 0.5))
    throw InvalidArgument("tail model: the fit (xi " + std::to_string(m.xi_) + ") is outside the PWM estimator's range");
  m.exceedances_ = e;
  m.zeta_ = static_cast<double>(e) / static_cast<double>(n);
  return m;
}

double TailModel::tail_probability(double t) const {
  const double n = static_cast<double>(sorted_.size());
  if (t <= u_) return static_cast<double>(sorted_.end() - std::lower_bound(sorted_.begin(), sorted_.end(), t)) / n;
  const double y = t - u_;
  if (std::abs(xi_) < 1e-12) return zeta_ * std::exp(-y / sigma_);
  const double z = 1 + xi_ * y / sigma_;
  if (z <= 0) return 0;  // beyond the finite end point u - sigma / xi
  return zeta_ * std::pow(z, -1 / xi_);
}

double TailModel::threshold_for_tail(double p) const {
  if (!(p > 0 && p <= 1)) throw InvalidArgument("tail probability must be in (0, 1]");
  if (p >= zeta_) return internal::threshold_for_rate(sorted_, p);
  const double r = p / zeta_;
  if (std::abs(xi_) < 1e-12) return u_ - sigma_ * std::log(r);
  return u_ + sigma_ / xi_ * (std::pow(r, -xi_) - 1);
}

double TailModel::fpir(double gallery_size, double t) const {
  return -std::expm1(gallery_size * std::log1p(-tail_probability(t)));
}

double TailModel::threshold_for_fpir(double gallery_size, double target) const {
  if (!(gallery_size >= 1)) throw InvalidArgument("gallery size must be at least 1");
  if (!(target > 0 && target < 1)) throw InvalidArgument("target FPIR must be in (0, 1)");
  return threshold_for_tail(-std::expm1(std::log1p(-target) / gallery_size));
}

double TailModel::fnir(std::span<const MatedSearch> mated, double gallery_size, double t) const {
  if (mated.empty()) throw InvalidArgument("modelled FNIR needs mated searches");
  double missed = 0;
  for (const auto& m : mated) {
    if (m.mate_score < t) missed += 1;
    else missed += -std::expm1((gallery_size - 1) * std::log1p(-tail_probability(m.mate_score)));
  }
  return missed / static_cast<double>(mated.size());
}

// ---------------------------------------------------------------------------------------------
// Drawing the protocol.

void OpenSetProtocol::check() const {
  if (!(nonmated_fraction > 0 && nonmated_fraction < 1)) throw InvalidArgument("the non-mated fraction must be in (0, 1)");
  if (gallery_samples > 1000000) throw InvalidArgument("gallery samples must be 0..1000000");
}

std::size_t OpenSetDesign::enrolled_persons() const noexcept {
  return static_cast<std::size_t>(std::count_if(persons.begin(), persons.end(), [](const Person& p) { return p.enrolled; }));
}

namespace {

// splitmix64 (Steele, Lea & Flood, OOPSLA 2014): a portable stream, so that a seed names the same
// draw on every standard library (std::shuffle's algorithm is unspecified).
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

template <class T>
void seeded_shuffle(std::vector<T>& v, std::uint64_t seed) {
  SplitMix64 rng{seed};
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.next() % i]);
}

// Independent streams for the pairing and the hold-out from one seed.
constexpr std::uint64_t kPairingStream = 0x5061697273ULL, kHoldOutStream = 0x486f6c644f7574ULL;

}  // namespace

OpenSetDesign draw_open_set(const Manifest& manifest, const OpenSetProtocol& protocol) {
  protocol.check();
  const auto& entries = manifest.entries();
  OpenSetDesign d;
  std::map<std::pair<std::string, Hand>, std::uint32_t> palm_of;
  std::vector<std::vector<std::size_t>> images;
  std::vector<std::uint32_t> palm(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto [it, added] = palm_of.emplace(std::pair{entries[i].subject, entries[i].hand}, static_cast<std::uint32_t>(images.size()));
    if (added) {
      images.emplace_back();
      d.palm_names.push_back(entries[i].subject + "/" + std::string(internal::manifest_hand_text(entries[i].hand)));
    }
    palm[i] = it->second;
    images[it->second].push_back(i);
  }

  // Persons.
  std::vector<std::vector<std::uint32_t>> persons;
  switch (protocol.persons) {
    case OpenSetProtocol::Persons::OnePalm:
      for (std::uint32_t p = 0; p < images.size(); ++p) persons.push_back({p});
      break;
    case OpenSetProtocol::Persons::SubjectHands:
      for (const auto& [key, id] : palm_of) {
        if (key.second != Hand::Left) continue;
        const auto right = palm_of.find({key.first, Hand::Right});
        if (right != palm_of.end()) persons.push_back({id, right->second});
      }
      break;
    case OpenSetProtocol::Persons::Chimeric: {
      std::vector<std::uint32_t> order(images.size());
      std::iota(order.begin(), order.end(), 0u);
      seeded_shuffle(order, protocol.seed ^ kPairingStream);
      for (std::size_t k = 0; k + 1 < order.size(); k += 2) persons.push_back({order[k], order[k + 1]});
      break;
    }
  }
  if (persons.size() < 2) throw InvalidArgument("open-set protocol: fewer than two persons in the manifest");

  // Hold-out: a seeded share of the persons, at least one, and at least one enrolled.
  std::vector<std::size_t> order(persons.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  seeded_shuffle(order, protocol.seed ^ kHoldOutStream);
  auto held = static_cast<std::size_t>(std::llround(protocol.nonmated_fraction * static_cast<double>(persons.size())));
  held = std::clamp<std::size_t>(held, 1, persons.size() - 1);
  for (const auto& p : persons) d.persons.push_back({p, true});
  for (std::size_t k = 0; k < held; ++k) d.persons[order[k]].enrolled = false;

  // Gallery and probe images of each palm.
  std::string first_session;
  if (protocol.gallery_samples == 0) {
    if (!manifest.has_sessions())
      throw InvalidArgument("open-set protocol: the gallery is session 1 but the manifest has no sessions "
                            "(give a number of gallery samples instead)");
    for (const auto& e : entries)
      if (!e.session.empty() && (first_session.empty() || e.session < first_session)) first_session = e.session;
  }
  d.gallery_images.assign(images.size(), {});
  d.probe_images.assign(images.size(), {});
  for (const auto& person : d.persons)
    for (const auto p : person.palms) {
      for (std::size_t k = 0; k < images[p].size(); ++k) {
        const std::size_t i = images[p][k];
        const bool gallery = person.enrolled && (protocol.gallery_samples == 0 ? entries[i].session == first_session
                                                                               : k < protocol.gallery_samples);
        (gallery ? d.gallery_images : d.probe_images)[p].push_back(i);
      }
      if (person.enrolled && (d.gallery_images[p].empty() || d.probe_images[p].empty()))
        throw InvalidArgument("open-set protocol: palm " + d.palm_names[p] + " has " +
                              std::to_string(d.gallery_images[p].size()) + " gallery and " +
                              std::to_string(d.probe_images[p].size()) + " probe images; it needs both");
    }
  return d;
}

std::string_view to_string(HandFusion fusion) noexcept {
  switch (fusion) {
    case HandFusion::Sum: return "sum";
    case HandFusion::Max: return "max";
    case HandFusion::Min: return "min";
  }
  return "?";
}

namespace {

struct Columns {
  std::vector<std::size_t> persons;  // enrolled persons, in order: column c is persons[c]
  std::vector<std::int64_t> column;  // per person: its column, or -1
};

Columns columns_of(const OpenSetDesign& d) {
  Columns c;
  c.column.assign(d.persons.size(), -1);
  for (std::size_t p = 0; p < d.persons.size(); ++p)
    if (d.persons[p].enrolled) {
      c.column[p] = static_cast<std::int64_t>(c.persons.size());
      c.persons.push_back(p);
    }
  return c;
}

// The identity score of image i against palm `palm`'s gallery: the best over its templates.
double identity_score(const OpenSetDesign& d, const PairScores& scores, std::size_t i, std::uint32_t palm) {
  double best = -std::numeric_limits<double>::infinity();
  for (const std::size_t g : d.gallery_images[palm]) best = std::max(best, scores.score(i, g));
  return best;
}

void check_hand(const OpenSetDesign& d, std::size_t hand) {
  for (const auto& p : d.persons)
    if (hand >= p.palms.size()) throw InvalidArgument("open-set searches: a person has no hand " + std::to_string(hand));
}

}  // namespace

SearchScores one_hand_searches(const OpenSetDesign& d, const PairScores& scores, std::size_t hand) {
  check_hand(d, hand);
  const Columns cols = columns_of(d);
  SearchScores s;
  s.identities = cols.persons.size();
  for (std::size_t p = 0; p < d.persons.size(); ++p)
    for (const std::size_t i : d.probe_images[d.persons[p].palms[hand]]) {
      s.probe_identity.push_back(static_cast<std::uint32_t>(p));
      s.mate.push_back(cols.column[p]);
      for (const std::size_t q : cols.persons) s.scores.push_back(identity_score(d, scores, i, d.persons[q].palms[hand]));
    }
  return s;
}

SearchScores two_hand_searches(const OpenSetDesign& d, const PairScores& scores, HandFusion fusion) {
  check_hand(d, 1);
  const Columns cols = columns_of(d);
  SearchScores s;
  s.identities = cols.persons.size();
  for (std::size_t p = 0; p < d.persons.size(); ++p) {
    const auto& left = d.probe_images[d.persons[p].palms[0]];
    const auto& right = d.probe_images[d.persons[p].palms[1]];
    for (std::size_t k = 0; k < std::min(left.size(), right.size()); ++k) {
      s.probe_identity.push_back(static_cast<std::uint32_t>(p));
      s.mate.push_back(cols.column[p]);
      for (const std::size_t q : cols.persons) {
        const double l = identity_score(d, scores, left[k], d.persons[q].palms[0]);
        const double r = identity_score(d, scores, right[k], d.persons[q].palms[1]);
        s.scores.push_back(fusion == HandFusion::Sum ? l + r : fusion == HandFusion::Max ? std::max(l, r) : std::min(l, r));
      }
    }
  }
  return s;
}

double subsampled_fpir(const SearchScores& s, std::size_t gallery_size, double t, std::size_t draws, std::uint64_t seed) {
  s.check();
  if (gallery_size == 0 || gallery_size > s.identities) throw InvalidArgument("subsampled gallery size out of range");
  if (draws == 0) throw InvalidArgument("at least one subsampled gallery needed");
  std::vector<std::size_t> cols(s.identities);
  std::iota(cols.begin(), cols.end(), std::size_t{0});
  std::size_t accepted = 0, searches = 0;
  for (std::size_t r = 0; r < draws; ++r) {
    seeded_shuffle(cols, seed + r);
    for (std::size_t p = 0; p < s.probes(); ++p) {
      if (s.mate[p] >= 0) continue;
      ++searches;
      for (std::size_t k = 0; k < gallery_size; ++k)
        if (s.at(p, cols[k]) >= t) {
          ++accepted;
          break;
        }
    }
  }
  if (searches == 0) throw InvalidArgument("subsampled FPIR needs non-mated searches");
  return static_cast<double>(accepted) / static_cast<double>(searches);
}

SearchSplit split_nonmated(const SearchScores& s, std::uint64_t seed) {
  s.check();
  std::vector<std::uint32_t> ids;
  for (std::size_t p = 0; p < s.probes(); ++p)
    if (s.mate[p] < 0) ids.push_back(s.probe_identity[p]);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() < 2) throw InvalidArgument("splitting non-mated searches needs at least two non-mated identities");
  seeded_shuffle(ids, seed);
  const std::set<std::uint32_t> checked(ids.begin() + static_cast<std::ptrdiff_t>(ids.size() / 2), ids.end());
  SearchSplit out;
  out.fit.identities = out.check.identities = s.identities;
  for (std::size_t p = 0; p < s.probes(); ++p) {
    SearchScores& to = s.mate[p] < 0 && checked.count(s.probe_identity[p]) ? out.check : out.fit;
    to.probe_identity.push_back(s.probe_identity[p]);
    to.mate.push_back(s.mate[p]);
    to.scores.insert(to.scores.end(), s.scores.begin() + static_cast<std::ptrdiff_t>(p * s.identities),
                     s.scores.begin() + static_cast<std::ptrdiff_t>((p + 1) * s.identities));
  }
  return out;
}

}  // namespace v1
}  // namespace palmvein
