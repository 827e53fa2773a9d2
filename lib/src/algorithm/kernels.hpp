// SPDX-License-Identifier: Apache-2.0
// The popcount kernels of the algorithm, with runtime dispatch: the one place where bits are
// counted, for 1:1 comparison (Matcher) and 1:N search (IdentificationIndex) alike.
//
// Fine counts (the exact score). Codes are row-packed (row_code.hpp): one 32-bit word per grid row,
// a plane of `rows` rows, a record = `planes` code planes then the mask plane. The probe is given
// per shift as a pointer to row 0 of its plane 0 after that shift (its planes `probe_stride` rows
// apart), so that a vertical shift is only a row offset and no probe copy is built per shift. For
// each (candidate, shift) the kernel counts
//   diff  = sum over code planes p of popcount((probe_p XOR cand_p) AND probe_mask AND cand_mask)
//   valid = popcount(probe_mask AND cand_mask)
//   both  = sum over code planes p of popcount(probe_p AND cand_p AND probe_mask AND cand_mask)
//           (optional: the Dice similarity of line codes needs it)
// Integer counts are exact, so every instruction-set path gives bit-identical results; the score
// is computed from the counts by one rule (shift_search.hpp) shared by every caller.
//
// Each path lives in its own .cpp compiled with GCC/Clang target attributes (no per-file flags),
// and dispatch.cpp picks one with __builtin_cpu_supports at first use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace palmvein::inline v1::detail::algo {

// Rows per 512-bit block: every plane of a record is a whole number of blocks, so that the wide
// paths need no tails.
inline constexpr std::size_t kRowsPerBlock = 16;
// The largest record the kernels are handed: 16 code planes (the template format's limit) of 64
// rows.
inline constexpr std::size_t kMaxRecordPlanes = 16;
inline constexpr std::size_t kMaxRecordRows = 64;

enum class Isa : std::uint8_t { Portable, Avx2, Avx512 };
std::string_view to_string(Isa isa) noexcept;

struct CountsTask {
  const std::uint32_t* const* probe = nullptr;  // `shifts` pointers: row 0 of plane 0 of each shifted probe
  std::size_t probe_stride = 0;                 // rows from one probe plane to the next (mask plane last)
  std::size_t shifts = 0;                       // shifts counted per candidate
  std::size_t rows = 0;                         // rows per plane; a multiple of kRowsPerBlock, rows * planes < 65536
  std::size_t planes = 0;                       // code planes (>= 1)
  const std::uint32_t* cands = nullptr;  // `count` records of (planes + 1) * rows rows, 64-byte aligned
  std::size_t count = 0;
  std::uint32_t* diff = nullptr;   // count * shifts, candidate-major
  std::uint32_t* valid = nullptr;  // count * shifts
  std::uint32_t* both = nullptr;   // count * shifts, or nullptr when not wanted
};
using CountsKernel = void (*)(const CountsTask& task);

// Both families of ONE candidate at the same list of shifts: what a 1:1 comparison and every
// refinement count. The same counts as two CountsTask calls (orientation without `both`, lines with
// it); the AVX-512 path does both families in one pass for the default geometry (32-row planes, up
// to 8 orientation planes), with the candidate's rows loaded once.
struct PairTask {
  const std::uint32_t* const* o_probe = nullptr;  // `shifts` pointers each, as CountsTask::probe
  const std::uint32_t* const* l_probe = nullptr;
  std::size_t shifts = 0;
  std::size_t o_stride = 0, l_stride = 0;  // probe plane strides
  std::size_t o_rows = 0, l_rows = 0;      // rows per plane (multiples of kRowsPerBlock)
  std::size_t o_planes = 0;                // orientation code planes; the line code has 1
  // The candidate: each family's code planes (o_rows / l_rows rows apart) and its mask plane, at
  // any 32-bit alignment (a record, or a template's own bit planes when they are row-packed).
  const std::uint32_t* o_code = nullptr;
  const std::uint32_t* o_mask = nullptr;
  const std::uint32_t* l_code = nullptr;
  const std::uint32_t* l_mask = nullptr;
  std::uint32_t *od = nullptr, *ov = nullptr, *ld = nullptr, *lv = nullptr, *lb = nullptr;  // `shifts` each
};
using PairKernel = void (*)(const PairTask& task);

// A pose variant of `planes` row-packed planes (PoseResampler::apply, row_code.hpp).
class PoseResampler;
using ResampleKernel = void (*)(const PoseResampler& pose, const std::uint32_t* in, std::uint32_t* out,
                                std::size_t planes) noexcept;

// The kernels of one instruction-set path.
struct Kernels {
  CountsKernel counts = nullptr;
  PairKernel pair = nullptr;
  ResampleKernel resample = nullptr;
};

// The coarse pre-filter of 1:N search in a "vertical" layout: candidates in blocks of kLanes, word
// j of the 8 candidates of a block side by side (one 512-bit vector), so that a probe word is
// broadcast and each lane counts for its own candidate: no horizontal sums. A block is `words` x
// kLanes 64-bit words, a record (and a probe variant) is `planes` code planes of `plane_words`
// words then the mask plane (flat bit planes, template_data.hpp). For each candidate, the kernel
// returns the counts (diff, valid) of the shift with the lowest diff/valid among the shifts with
// valid >= min_valid (ratios compared exactly by cross-multiplication, the first shift wins ties);
// valid = 0 when no shift qualifies.
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
void pair_portable(const PairTask& task);
void coarse_portable(const CoarseTask& task);
void resample_portable(const PoseResampler& pose, const std::uint32_t* in, std::uint32_t* out, std::size_t planes) noexcept;
#if defined(__x86_64__) || defined(__i386__)
void resample_avx2(const PoseResampler& pose, const std::uint32_t* in, std::uint32_t* out, std::size_t planes) noexcept;
void counts_avx2(const CountsTask& task);
void pair_avx2(const PairTask& task);
void counts_avx512(const CountsTask& task);
void pair_avx512(const PairTask& task);
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
// Both kernels of a path; throws palmvein::InvalidArgument if the CPU cannot run it.
Kernels kernels_for(Isa isa);
// kernels_for(best_isa()), looked up once.
const Kernels& best_kernels();
// The pair kernel as two CountsTask calls of `counts` (the reference every pair path equals).
void pair_by_counts(const PairTask& task, CountsKernel counts);

}  // namespace palmvein::v1::detail::algo
