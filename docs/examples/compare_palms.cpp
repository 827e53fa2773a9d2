// SPDX-License-Identifier: Apache-2.0
// compare_palms A.png B.png: are two full-hand NIR images of the same palm?
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include <palmvein/palmvein.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: compare_palms A.png B.png\n");
    return 2;
  }
  try {
    const palmvein::TemplateExtractor extractor;  // immutable, thread-safe
    const auto a = extractor.extract(palmvein::read_image(argv[1]), palmvein::ImageKind::FullHand);
    const auto b = extractor.extract(palmvein::read_image(argv[2]), palmvein::ImageKind::FullHand);
    for (const auto* result : {&a, &b}) {
      if (!result->ok()) {  // not an exception: a reason and what to tell the user
        const std::string_view advice = palmvein::guidance(result->roi.failure());  // "Spread your fingers"...
        std::printf("no usable palm: %.*s\n", static_cast<int>(advice.size()), advice.data());
        return 1;
      }
    }
    const double score = palmvein::match(*a.templ, *b.templ);  // higher = more alike
    const auto threshold = palmvein::DecisionThreshold::at_fmr(1e-4);
    const std::vector<std::uint8_t> bytes = a.templ->to_bytes();  // ≈1.2 KB, versioned, CRC'd
    std::printf("score %.3f, threshold %.3f: %s (template %zu bytes)\n", score, threshold.score,
                score >= threshold.score ? "same palm" : "different palms", bytes.size());
    return 0;
  } catch (const palmvein::Error& e) {  // unreadable image, bad argument...
    std::fprintf(stderr, "compare_palms: %s\n", e.what());
    return 2;
  }
}
