// Popcount kernels of the 1:N identification engine, with runtime dispatch.
//
// One primitive serves both the coarse pre-filter and the exact comparison: for a probe prepared
// as S pre-shifted variants and a run of candidate records, count per (candidate, shift)
//   diff  = sum over code planes p of popcount((probe_p XOR cand_p) AND probe_mask AND cand_mask)
//   valid = popcount(probe_mask AND cand_mask)
//   both  = sum over code planes p of popcount(probe_p AND cand_p AND probe_mask AND cand_mask)
//           (optional: the Dice similarity of line codes needs it)
// Integer counts are exact, so every instruction-set path gives bit-identical results; the score
// is computed from the counts by scalar code shared by all paths.
//
// Each path lives in its own .cpp compiled with GCC/Clang target attributes (no per-file flags),
// and dispatch() picks one with __builtin_cpu_supports at first use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace palmvein::inline v1::detail::ident {

// Every plane is a whole number of 512-bit blocks so that the wide paths need no tails.
inline constexpr std::size_t kWordsPerBlock = 8;

enum class Isa : std::uint8_t { Portable, Avx2, Avx512 };
std::string_view to_string(Isa isa) noexcept;

// Layout of a record: `planes` code planes then one mask plane, each `words` 64-bit words.
// A probe is such records back to back (its pre-shifted variants).
struct CountsTask {
  const std::uint64_t* probe = nullptr;
  std::size_t shifts = 0;  // shifts counted per candidate
  // Which probe variants: shift_list[0 .. shifts) when set, else variants 0 .. shifts-1.
  const std::uint32_t* shift_list = nullptr;
  std::size_t words = 0;   // per plane; a multiple of kWordsPerBlock
  std::size_t planes = 0;  // code planes (>= 1)
  const std::uint64_t* cands = nullptr;  // `count` records, each (planes + 1) * words words
  std::size_t count = 0;
  std::uint32_t* diff = nullptr;   // count * shifts, candidate-major
  std::uint32_t* valid = nullptr;  // count * shifts
  std::uint32_t* both = nullptr;   // count * shifts, or nullptr when not wanted
};

using CountsKernel = void (*)(const CountsTask& task);

// The coarse pre-filter in a "vertical" layout: candidates in blocks of kLanes, word j of the 8
// candidates of a block side by side (one 512-bit vector), so that a probe word is broadcast and
// each lane counts for its own candidate: no horizontal sums. A block is `words` x kLanes words,
// a record (and a probe variant) is `planes` code planes of `plane_words` words then the mask plane.
// For each candidate, the kernel returns the counts (diff, valid) of the shift with the lowest
// diff/valid among the shifts with valid >= min_valid (ratios compared exactly by
// cross-multiplication, the first shift wins ties); valid = 0 when no shift qualifies.
inline constexpr std::size_t kLanes = 8;
struct CoarseTask {
  const std::uint64_t* probe = nullptr;  // shifts x record words
  std::size_t shifts = 0;
  std::size_t planes = 0;       // 1..16
  std::size_t plane_words = 0;  // 1..8
  std::uint32_t min_valid = 1;  // >= 1
  const std::uint64_t* blocks = nullptr;
  std::size_t block_count = 0;
  std::uint32_t* best_diff = nullptr;   // block_count * kLanes
  std::uint32_t* best_valid = nullptr;  // block_count * kLanes
};
using CoarseKernel = void (*)(const CoarseTask& task);

void counts_portable(const CountsTask& task);
void coarse_portable(const CoarseTask& task);
#if defined(__x86_64__) || defined(__i386__)
void counts_avx2(const CountsTask& task);
void counts_avx512(const CountsTask& task);
void coarse_avx2(const CoarseTask& task);
void coarse_avx512(const CoarseTask& task);
#endif

// Paths this CPU can run, best first (Portable is always last).
std::vector<Isa> available_isas();
// The best available path.
Isa best_isa();
// The kernel of a path; throws palmvein::InvalidArgument if the CPU cannot run it.
CountsKernel kernel_for(Isa isa);
CoarseKernel coarse_kernel_for(Isa isa);

}  // namespace palmvein::v1::detail::ident
