// SPDX-License-Identifier: Apache-2.0
// Outputs never overwrite inputs: every subcommand names its output and input paths here before it
// writes anything, and a clash is one error that names both options. Paths are compared as files
// (fs::equivalent for existing ones: hard and symbolic links, "./a" and "a"), not as strings.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace palmvein::cli {

struct NamedPath {
  std::string what;  // the option or argument, e.g. "--scores" or "image"
  std::filesystem::path path;
};

// Throws InvalidArgument when an output is the same file (or folder) as an input or as another
// output. Empty paths are skipped (options not given).
void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

}  // namespace palmvein::cli
