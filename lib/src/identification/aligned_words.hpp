// A growable array of 64-bit words on 64-byte (cache line, AVX-512 register) boundaries.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace palmvein::inline v1::detail::ident {

class AlignedWords {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedWords() = default;
  explicit AlignedWords(std::size_t n) { resize(n); }

  std::uint64_t* data() noexcept { return data_.get(); }
  const std::uint64_t* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }

  // Keeps the first min(size, n) words; new words are zero.
  void resize(std::size_t n) {
    if (n > capacity_) reallocate(std::max(n, capacity_ + capacity_ / 2));
    if (n > size_) std::memset(data_.get() + size_, 0, (n - size_) * sizeof(std::uint64_t));
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
    void operator()(std::uint64_t* p) const noexcept { std::free(p); }
  };
  void reallocate(std::size_t n) {
    const std::size_t bytes = (n * sizeof(std::uint64_t) + kAlignment - 1) / kAlignment * kAlignment;
    auto* p = static_cast<std::uint64_t*>(std::aligned_alloc(kAlignment, std::max(bytes, kAlignment)));
    if (!p) throw std::bad_alloc();
    if (size_) std::memcpy(p, data_.get(), size_ * sizeof(std::uint64_t));
    data_.reset(p);
    capacity_ = bytes / sizeof(std::uint64_t);
  }

  std::unique_ptr<std::uint64_t[], Free> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace palmvein::v1::detail::ident
