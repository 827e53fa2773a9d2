// SPDX-License-Identifier: Apache-2.0
#include "output_guard.hpp"

#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"  // escape_text

namespace palmvein::cli {
namespace fs = std::filesystem;
namespace {

// The file a path names once written: the canonical form of its existing part (symbolic links in
// folders resolved) plus what does not exist yet.
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : r;
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const bool a_exists = fs::exists(a, ec), b_exists = fs::exists(b, ec);
  if (a_exists && b_exists) return fs::equivalent(a, b, ec);
  if (a_exists != b_exists) return false;
  return resolved(a) == resolved(b);
}

std::string describe(const NamedPath& p) { return p.what + " '" + escape_text(p.path.string()) + "'"; }

}  // namespace

void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].path.empty()) continue;
    for (const NamedPath& input : inputs)
      if (!input.path.empty() && same_file(outputs[i].path, input.path))
        throw InvalidArgument(describe(outputs[i]) + " is the input " + describe(input) + ": refusing to overwrite it");
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (!outputs[j].path.empty() && same_file(outputs[i].path, outputs[j].path))
        throw InvalidArgument(describe(outputs[i]) + " and " + describe(outputs[j]) + " are the same file");
  }
}

}  // namespace palmvein::cli
