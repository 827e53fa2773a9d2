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

void counts_portable(const CountsTask& task);
#if defined(__x86_64__) || defined(__i386__)
void counts_avx2(const CountsTask& task);
void counts_avx512(const CountsTask& task);
#endif

// Paths this CPU can run, best first (Portable is always last).
std::vector<Isa> available_isas();
// The best available path.
Isa best_isa();
// The kernel of a path; throws palmvein::InvalidArgument if the CPU cannot run it.
CountsKernel kernel_for(Isa isa);

}  // namespace palmvein::v1::detail::ident
