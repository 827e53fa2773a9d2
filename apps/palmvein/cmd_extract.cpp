// SPDX-License-Identifier: Apache-2.0
// palmvein extract IMAGE -o OUT.pvt [--roi-out ROI.png] [--dump DIR] [--kind roi|full-hand]
// Exit 0: template written. Exit 1: failure to acquire (the reason on stderr, no output file).
// Exit 2: error (unreadable image, bad option, cannot write).
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "extract_common.hpp"
#include "palmvein/files.hpp"
#include "output_guard.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/transparency.hpp"

namespace palmvein::cli {
namespace {
namespace fs = std::filesystem;

struct ExtractArgs {
  std::string image;
  std::string out;
  std::string roi_out;
  std::string dump;
  std::string kind;
};

int run_extract(const ExtractArgs& args) {
  check_outputs({{"--output", args.out}, {"--roi-out", args.roi_out}, {"--dump", args.dump}}, {{"image", args.image}});
  const Image image = read_image(args.image);
  const ImageKind kind = parse_kind(args.kind, image);
  std::unique_ptr<DirectoryTransparency> dump;
  if (!args.dump.empty()) dump = std::make_unique<DirectoryTransparency>(args.dump);
  const TemplateExtractor extractor;
  const ExtractResult result = extractor.extract(image, kind, dump.get());
  if (!result.ok()) {
    std::fprintf(stderr, "palmvein: no template from '%s': %s: %s\n", args.image.c_str(),
                 std::string(to_string(result.roi.failure())).c_str(),
                 std::string(guidance(result.roi.failure())).c_str());
    return kExitNo;
  }
  const std::vector<std::uint8_t> bytes = result.templ->to_bytes();
  StagedFiles outputs;  // the template and its ROI picture together, or neither
  if (!args.roi_out.empty()) outputs.stage(args.roi_out, encode_image(result.roi.roi().image, fs::path(args.roi_out).extension().string()));
  outputs.stage(args.out, bytes);
  outputs.commit();
  std::printf("%s: %zu-byte template (kind %s, ROI quality %.2f)\n", args.out.c_str(), bytes.size(),
              kind == ImageKind::Roi ? "roi" : "full-hand", static_cast<double>(result.roi.roi().quality));
  return kExitOk;
}

}  // namespace

void add_extract_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExtractArgs>();
  CLI::App* sub = app.add_subcommand("extract", "Make a template (.pvt) from an image");
  sub->add_option("image", args->image, "Input image (PNG, JPEG, BMP, PGM, TIFF)")->required();
  sub->add_option("-o,--output", args->out, "Template file to write")->required();
  sub->add_option("--roi-out", args->roi_out, "Also write the normalised ROI image here");
  sub->add_option("--dump", args->dump, "Write every extraction stage as DIR/<stage>.png");
  sub->add_option("--kind", args->kind, "roi or full-hand (default: roi when the longer side is < 480 px and the sides are within 1.5x, else full-hand)")
      ->check(CLI::IsMember({"roi", "full-hand"}));
  sub->footer("Exit status: 0 template written, 1 no palm / too poor (reason on stderr), 2 error.");
  sub->callback([args, &exit_code] { exit_code = run_extract(*args); });
}

}  // namespace palmvein::cli
