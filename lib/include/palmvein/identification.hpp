// SPDX-License-Identifier: Apache-2.0
// Fast 1:N identification: an in-memory index of enrolled templates and a multi-threaded search
// that returns the best-scoring candidates. Design, layout and measurements: docs/identification.md.
//
// Scores are exactly those of palmvein::match() / Matcher::score() (same similarity in [0, 1]);
// the index only lays the templates out for speed (structure of arrays, 64-byte aligned, probe
// codes pre-shifted once per search, SIMD popcount kernels chosen at run time).
//
// Thread-safety: IdentificationIndex may be shared between threads. search()/identify() and every
// other const member may run concurrently with each other; add(), remove(), reserve() and clear()
// take exclusive access (an internal reader/writer lock makes them wait for running searches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"
#include "palmvein/template.hpp"

PALMVEIN_NAMESPACE_BEGIN

// How a search visits the gallery.
enum class SearchStrategy : std::uint8_t {
  // Every enrolled template is scored exactly. The reference; always returns the true top-k.
  Exhaustive,
  // A cheap pre-filter (a downsampled orientation code with a coarse shift search) ranks every
  // template; only the best `shortlist` are scored exactly. Rank-1 equals Exhaustive whenever the
  // true best template is in the shortlist (measured in docs/identification.md).
  CoarseToFine,
};
PALMVEIN_API std::string_view to_string(SearchStrategy strategy) noexcept;

// The popcount kernel used by searches. Auto picks the best the CPU supports; the others force a
// path (for tests and benchmarks) and make the constructor throw InvalidArgument where the CPU
// cannot run it. Every path gives identical results.
enum class PopcountKernel : std::uint8_t { Auto, Portable, Avx2, Avx512 };
PALMVEIN_API std::string_view to_string(PopcountKernel kernel) noexcept;
// The paths this CPU can run, best first (Portable always last; Auto not listed).
PALMVEIN_API std::vector<PopcountKernel> available_popcount_kernels();

struct PALMVEIN_API IdentificationOptions {
  unsigned threads = 0;  // search threads, the caller included (0: std::thread::hardware_concurrency())
  SearchStrategy strategy = SearchStrategy::CoarseToFine;  // default strategy of search()
  // Templates re-ranked exactly after the pre-filter (CoarseToFine). 0: automatic,
  // max(kMinShortlist, size / kShortlistDivisor) (see lib/src/identification/tuning.hpp).
  std::size_t shortlist = 0;
  PopcountKernel kernel = PopcountKernel::Auto;
  // Pre-filter geometry (CoarseToFine): orientation code downsampling per axis (0: default, 2) and
  // shift radius in coarse cells (-1: the matcher's radius / factor, rounded up).
  int coarse_factor = 0;
  int coarse_radius = -1;
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

// One search result: an enrolled template and its score against the probe.
struct Candidate {
  std::uint64_t id = 0;  // the id given to add()
  double score = 0;      // == match(probe, enrolled template)
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

class PALMVEIN_API IdentificationIndex {
 public:
  explicit IdentificationIndex(IdentificationOptions options = {});
  ~IdentificationIndex();
  IdentificationIndex(const IdentificationIndex&) = delete;
  IdentificationIndex& operator=(const IdentificationIndex&) = delete;

  // Enrols a template under `id` (several templates may share an id: each is an entry of its own).
  // Throws InvalidArgument if the template's algorithm or geometry differs from the index's (the
  // first template added fixes it).
  void add(std::uint64_t id, const Template& templ);
  // Removes every entry with this id; returns how many were removed.
  std::size_t remove(std::uint64_t id);
  // Room for `entries` templates without reallocation (called before the first add(), it takes
  // effect when that template fixes the record sizes).
  void reserve(std::size_t entries);
  void clear();

  std::size_t size() const;
  // Bytes the index holds per enrolled template (all arrays, padding included).
  std::size_t bytes_per_template() const;
  // Entries re-ranked exactly by a CoarseToFine search of the index as it is now.
  std::size_t shortlist_size() const;
  // The kernel searches run with (never Auto).
  PopcountKernel kernel() const noexcept;
  const IdentificationOptions& options() const noexcept { return options_; }

  // The best `k` entries for `probe`, best first (ties: smaller id, then earlier enrolled).
  // Throws InvalidArgument if the probe is incompatible with the enrolled templates.
  std::vector<Candidate> search(const Template& probe, std::size_t k) const;
  std::vector<Candidate> search(const Template& probe, std::size_t k, SearchStrategy strategy) const;

  // Diagnostics and tuning: the pre-filter's `m` best entries, best first; Candidate::score is the
  // coarse similarity (1 - lowest fractional Hamming distance of the downsampled orientation codes),
  // not a matcher score.
  std::vector<Candidate> prefilter(const Template& probe, std::size_t m) const;

  // The rank-1 candidate if its score reaches `threshold`, else nothing.
  std::optional<Candidate> identify(const Template& probe, double threshold) const;
  // The same with the threshold of the built-in calibration for a target false-match rate per
  // comparison (DecisionThreshold::at_fmr(fmr), calibration.hpp). Note that a 1:N search makes N
  // comparisons: the chance of some false match grows about N times.
  std::optional<Candidate> identify_at_fmr(const Template& probe, double fmr) const;

 private:
  struct Impl;
  IdentificationOptions options_;
  std::unique_ptr<Impl> impl_;
};

PALMVEIN_NAMESPACE_END
