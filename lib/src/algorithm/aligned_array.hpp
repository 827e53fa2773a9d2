// SPDX-License-Identifier: Apache-2.0
// A growable array of integers on 64-byte (cache line, AVX-512 register) boundaries: the storage of
// code records and probe variants that the popcount kernels (kernels.hpp) read with aligned loads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace palmvein::inline v1::detail::algo {

template <class T>
class AlignedArray {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedArray() = default;
  explicit AlignedArray(std::size_t n) { resize(n); }

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }

  // Keeps the first min(size, n) elements; new elements are zero.
  void resize(std::size_t n) {
    if (n > capacity_) reallocate(std::max(n, capacity_ + capacity_ / 2));
    if (n > size_) std::memset(data_.get() + size_, 0, (n - size_) * sizeof(T));
    size_ = n;
  }
  void reserve(std::size_t n) {
    if (n > capacity_) reallocate(n);
  }
  void clear() noexcept { size_ = 0; }
  void release() noexcept {
    data_.reset();
    size_ = capacity_ = 0;
  }

 private:
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  void reallocate(std::size_t n) {
    if (n > PTRDIFF_MAX / sizeof(T) - kAlignment) throw std::bad_alloc();
    const std::size_t bytes = (n * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    auto* p = static_cast<T*>(std::aligned_alloc(kAlignment, std::max(bytes, kAlignment)));
    if (!p) throw std::bad_alloc();
    if (size_) std::memcpy(p, data_.get(), size_ * sizeof(T));
    data_.reset(p);
    capacity_ = bytes / sizeof(T);
  }

  std::unique_ptr<T[], Free> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

using AlignedWords = AlignedArray<std::uint64_t>;  // coarse pre-filter blocks
using AlignedRows = AlignedArray<std::uint32_t>;   // row-packed codes (row_code.hpp)

}  // namespace palmvein::v1::detail::algo
