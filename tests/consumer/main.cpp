// Uses only the installed public API: make an image, extract (expect a result either way), print version.
#include <cstdio>

#include <palmvein/palmvein.hpp>

int main() {
  palmvein::Image image(128, 128);
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) image.row8(y)[x] = static_cast<std::uint8_t>((x * y) & 0xff);
  const palmvein::TemplateExtractor extractor;
  const auto result = extractor.extract(image, palmvein::ImageKind::Roi);
  std::printf("palmvein %s: extraction %s\n", palmvein::version_string(), result.ok() ? "ok" : "failed");
  return result.ok() ? 0 : 1;
}
