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
// "exhaustive" or "coarse-to-fine"; "unknown" for a value outside the enum.
PALMVEIN_API std::string_view to_string(SearchStrategy strategy) noexcept;

// The popcount kernel used by searches. Auto picks the best the CPU supports; the others force a
// path (for tests and benchmarks) and make the constructor throw InvalidArgument where the CPU
// cannot run it: Portable (plain C++, any CPU), Avx2 (AVX2), Avx512 (AVX-512 with VPOPCNTDQ).
// Every path gives identical results.
enum class PopcountKernel : std::uint8_t { Auto, Portable, Avx2, Avx512 };
// "auto", "portable", "avx2" or "avx512-vpopcntdq"; "unknown" for a value outside the enum.
PALMVEIN_API std::string_view to_string(PopcountKernel kernel) noexcept;
// The paths this CPU can run, best first (Portable always last; Auto not listed).
PALMVEIN_API std::vector<PopcountKernel> available_popcount_kernels();

// Options of IdentificationIndex, fixed at construction. The defaults suit any gallery size.
// Thread-safety: a plain value.
struct PALMVEIN_API IdentificationOptions {
  unsigned threads = 0;  // search threads, the caller included (0: std::thread::hardware_concurrency())
  SearchStrategy strategy = SearchStrategy::CoarseToFine;  // default strategy of search()
  // Templates re-ranked exactly after the pre-filter (CoarseToFine). 0: automatic,
  // max(kMinShortlist, size / kShortlistDivisor) (see lib/src/identification/tuning.hpp).
  std::size_t shortlist = 0;
  // The popcount kernel (Auto: the best this CPU runs). Results do not depend on it.
  PopcountKernel kernel = PopcountKernel::Auto;
  // Pre-filter geometry (CoarseToFine): orientation code downsampling per axis, 1..8 (0: default, 2).
  int coarse_factor = 0;
  // Pre-filter shift radius in coarse cells, 0..16 (-1: the matcher's radius / coarse_factor,
  // rounded down: 5 / 2 = 2 coarse cells = the matcher's first-stage reach of +-4 cells).
  int coarse_radius = -1;
  // Pre-filter orientation planes: how many of the code's planes the pre-filter compares, spread
  // evenly over the orientations (plane i * planes_in_code / coarse_planes), 1..16; 0: the default
  // (lib/src/identification/tuning.hpp); more than the code has: all of them.
  int coarse_planes = 0;
  // Throws InvalidArgument when a field is out of range (threads above 1024, an unknown strategy or
  // kernel, coarse_factor outside 0..8, coarse_radius outside -1..16, coarse_planes outside 0..16).
  void check() const;
};

// One search result: an enrolled template and its score against the probe. A plain value.
struct Candidate {
  std::uint64_t id = 0;  // the id given to add()
  double score = 0;      // == match(probe, enrolled template)
  // Equal when id and score are equal.
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// An in-memory 1:N index of enrolled templates (see the file comment on scores and threads).
// Entries keep the order they were added in; ids are the caller's (the index never makes one).
class PALMVEIN_API IdentificationIndex {
 public:
  // An empty index; its search workers start here (one fewer than the threads: the caller searches too).
  // Throws InvalidArgument when the options fail IdentificationOptions::check() or ask for a kernel
  // this CPU cannot run.
  explicit IdentificationIndex(IdentificationOptions options = {});
  ~IdentificationIndex();
  IdentificationIndex(const IdentificationIndex&) = delete;
  IdentificationIndex& operator=(const IdentificationIndex&) = delete;

  // Enrols a template under `id` (several templates may share an id: each is an entry of its own).
  // Throws InvalidArgument if the template's algorithm or geometry differs from the index's (the
  // first template added fixes it).
  void add(std::uint64_t id, const Template& templ);
  // Removes every entry with this id; returns how many were removed. The other entries keep their
  // order.
  std::size_t remove(std::uint64_t id);
  // Room for `entries` templates without reallocation (called before the first add(), it takes
  // effect when that template fixes the record sizes).
  void reserve(std::size_t entries);
  // Removes every entry. The algorithm and geometry fixed by the first add() stay fixed.
  void clear();

  // Entries enrolled (templates, not distinct ids).
  std::size_t size() const;
  // Bytes the index holds per enrolled template (all arrays, padding included); 0 before the first
  // add().
  std::size_t bytes_per_template() const;
  // Entries re-ranked exactly by a CoarseToFine search of the index as it is now: the options'
  // shortlist, or the automatic one, at most size().
  std::size_t shortlist_size() const;
  // The kernel searches run with (never Auto).
  PopcountKernel kernel() const noexcept;
  // The options it was made with.
  const IdentificationOptions& options() const noexcept { return options_; }

  // The best `k` entries for `probe`, best first (ties: smaller id, then earlier enrolled), with the
  // options' strategy. Fewer when the index holds fewer, none when it is empty or k is 0; a
  // CoarseToFine search returns at most shortlist_size(). Throws InvalidArgument if the probe is
  // incompatible with the enrolled templates.
  std::vector<Candidate> search(const Template& probe, std::size_t k) const;
  // The same with `strategy` instead of the options' strategy.
  std::vector<Candidate> search(const Template& probe, std::size_t k, SearchStrategy strategy) const;

  // Diagnostics and tuning: the pre-filter's `m` best entries, best first; Candidate::score is the
  // coarse similarity (1 - lowest fractional Hamming distance of the downsampled orientation codes),
  // not a matcher score.
  std::vector<Candidate> prefilter(const Template& probe, std::size_t m) const;

  // The rank-1 candidate of search(probe, 1) if its score reaches `threshold` (score >= threshold),
  // else nothing (also for an empty index). Throws as search() does.
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
