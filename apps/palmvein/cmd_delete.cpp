// SPDX-License-Identifier: Apache-2.0
// palmvein delete: remove an identity (one hand, or every hand). Exit 0 deleted, 1 no such
// identity, 2 error.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gallery_cli.hpp"

namespace palmvein::cli {
namespace {

struct DeleteArgs {
  GalleryArgs gallery;
  std::string id;
  std::string hand;
  bool json = false;
};

int run_delete(const DeleteArgs& a) {
  const std::optional<Hand> hand = a.hand.empty() ? std::nullopt : std::optional<Hand>(parse_hand(a.hand));
  Gallery gallery = open_gallery(a.gallery, false);
  const int removed = gallery.remove(a.id, hand);
  const std::string what = "'" + escape_text(a.id) + "'" + (hand ? " (hand " + std::string(to_string(*hand)) + ")" : std::string());
  if (a.json) {
    std::printf("%s\n", json_text(nlohmann::json{{"id", a.id}, {"deleted", removed}}).c_str());
  } else if (removed > 0) {
    std::printf("deleted %s: %d enrolment(s)\n", what.c_str(), removed);
  } else {
    std::fprintf(stderr, "palmvein: no identity %s in '%s'\n", what.c_str(), a.gallery.db.c_str());
  }
  return removed > 0 ? kExitOk : kExitNo;
}

}  // namespace

void add_delete_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DeleteArgs>();
  CLI::App* cmd = app.add_subcommand("delete", "Delete an identity from a gallery (exit 0 deleted, 1 not found, 2 error)");
  add_gallery_args(cmd, args->gallery);
  cmd->add_option("--id", args->id, "Identity to delete")->required();
  cmd->add_option("--hand", args->hand, "Delete this hand only (L, R, U); default: every hand");
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([args, &exit_code] { exit_code = run_delete(*args); });
}

}  // namespace palmvein::cli
