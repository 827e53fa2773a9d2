#include "algorithm/row_code.hpp"

#include <cstring>
#include <string>

#include "features/bit_rows.hpp"
#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail::algo {

namespace {

std::uint32_t row_of(const std::uint64_t* plane, int width, int y) {
  return static_cast<std::uint32_t>(get_row(plane, width, y));
}

}  // namespace

void check_row_packable(const BitCode& code, const char* family) {
  if (code.width < 1 || code.width > kMaxRowCells || code.height < 1 || code.height > kMaxGridRows ||
      code.planes < 1 || code.planes > kMaxCodePlanes)
    throw InvalidArgument(std::string("matcher: ") + family + " code grid " + std::to_string(code.width) + "x" +
                          std::to_string(code.height) + " with " + std::to_string(code.planes) + " planes is not supported (width 1.." +
                          std::to_string(kMaxRowCells) + ", height 1.." + std::to_string(kMaxGridRows) + ", 1.." +
                          std::to_string(kMaxCodePlanes) + " planes)");
  if (code.bits.size() != code.words_per_plane() * code.planes || code.mask.size() != code.words_per_plane())
    throw InvalidArgument(std::string("matcher: ") + family + " code has inconsistent sizes");
}

namespace {

// The rows of plane `p` (p == code.planes: the mask) into rows[0 .. height).
void rows_of(const BitCode& code, std::size_t p, std::uint32_t* rows) {
  const std::uint64_t* plane = p < code.planes ? code.plane(p) : code.mask.data();
  if (code.width == 32) {  // the flat plane is already row-packed (little-endian words)
    std::memcpy(rows, plane, std::size_t{code.height} * sizeof(std::uint32_t));
    return;
  }
  for (int y = 0; y < code.height; ++y) rows[y] = row_of(plane, code.width, y);
}

}  // namespace

void write_record(const BitCode& code, std::uint32_t* out) {
  const std::size_t rows = record_rows(code.height);
  for (std::size_t p = 0; p <= code.planes; ++p) rows_of(code, p, out + p * rows);
}

ShiftedRows::ShiftedRows(const BitCode& code, int radius)
    : radius_(radius), planes_(code.planes), rows_(record_rows(code.height)), pad_(static_cast<std::size_t>(radius)) {
  if (radius < 0 || radius > kMaxShiftRadius)
    throw InvalidArgument("matcher: shift radius must be 0.." + std::to_string(kMaxShiftRadius));
  stride_ = rows_ + 2 * pad_;
  const std::size_t variant = (planes_ + 1) * stride_;
  data_.resize(static_cast<std::size_t>(2 * radius + 1) * variant);
  const std::uint32_t full = code.width == 32 ? ~std::uint32_t{0} : ((std::uint32_t{1} << code.width) - 1);
  std::uint32_t rows[kMaxGridRows];
  for (std::size_t p = 0; p <= planes_; ++p) {
    rows_of(code, p, rows);
    // One tight loop per shift (a constant shift count: vectorised by the compiler). Cell x of the
    // translate takes cell x - dx.
    for (int dx = -radius; dx <= radius; ++dx) {
      std::uint32_t* v = data_.data() + static_cast<std::size_t>(dx + radius) * variant + p * stride_ + pad_;
      if (dx >= 0)
        for (int y = 0; y < code.height; ++y) v[y] = (rows[y] << dx) & full;
      else
        for (int y = 0; y < code.height; ++y) v[y] = rows[y] >> (-dx);
    }
  }
}

}  // namespace palmvein::v1::detail::algo
