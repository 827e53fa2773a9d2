// SPDX-License-Identifier: Apache-2.0
// palmvein list: the identities in a gallery (no templates are decrypted or shown).
#include <cstdio>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gallery_cli.hpp"

namespace palmvein::cli {
namespace {

struct ListArgs {
  GalleryArgs gallery;
  bool json = false;
};

std::string iso_time(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

int run_list(const ListArgs& a) {
  Gallery gallery = open_gallery_for_reading(a.gallery);
  const auto identities = gallery.list();
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& i : identities)
      out.push_back({{"id", i.id},
                     {"name", i.display_name},
                     {"hand", std::string(to_string(i.hand))},
                     {"templates", i.template_count},
                     {"algorithm", i.algorithm},
                     {"created", iso_time(i.created)},
                     {"updated", iso_time(i.updated)}});
    std::printf("%s\n", json_text(out).c_str());
    return kExitOk;
  }
  std::printf("%-24s %-24s %-4s %9s %4s  %-20s\n", "ID", "NAME", "HAND", "TEMPLATES", "ALG", "UPDATED");
  // Stored text is escaped: a name from an older gallery may hold terminal escapes.
  for (const auto& i : identities)
    std::printf("%-24s %-24s %-4s %9d %4u  %-20s\n", escape_text(i.id).c_str(), escape_text(i.display_name).c_str(),
                std::string(to_string(i.hand)).c_str(), i.template_count, unsigned{i.algorithm},
                iso_time(i.updated).c_str());
  std::printf("%zu identit%s\n", identities.size(), identities.size() == 1 ? "y" : "ies");
  return kExitOk;
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* cmd = app.add_subcommand("list", "List the identities enrolled in a gallery");
  add_gallery_args(cmd, args->gallery);
  cmd->add_flag("--json", args->json, "Print the list as JSON");
  cmd->callback([args, &exit_code] { exit_code = run_list(*args); });
}

}  // namespace palmvein::cli
