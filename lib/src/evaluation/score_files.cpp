// SPDX-License-Identifier: Apache-2.0
// Score files of other systems: bob.measure's four-column files (read and written), the protocol's
// a,b,score file labelled by a manifest, the searches they describe (for the CMC), and thresholds
// chosen on a development set and applied to an evaluation set (bob.measure "metrics -e").
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>

#include "internal/csv.hpp"
#include "evaluation/manifest_csv.hpp"
#include "internal/bounded_read.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

namespace palmvein {
inline namespace v1 {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// A finite double written in full (no trailing characters); nullopt otherwise.
std::optional<double> parse_score(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const char* begin = text.data();
  if (begin != end && *begin == '+') ++begin;
  const auto [p, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string read_text(const std::filesystem::path& path, std::string_view what) {
  const std::vector<std::uint8_t> bytes = io::read_file_bounded(path, io::kMaxScoreFileBytes, what);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

std::vector<ScoreRecord> parse_four_column(std::string_view text, const std::string& where) {
  std::vector<ScoreRecord> out;
  std::size_t line_no = 0, pos = 0;
  std::vector<std::string_view> fields;
  while (pos < text.size()) {
    const std::size_t eol = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    fields.clear();
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && is_blank(line[i])) ++i;
      const std::size_t start = i;
      while (i < line.size() && !is_blank(line[i])) ++i;
      if (i > start) fields.push_back(line.substr(start, i - start));
    }
    if (fields.empty() || fields[0].front() == '#') continue;
    const std::string at = where + " line " + std::to_string(line_no);
    if (fields.size() != 4)
      throw FormatError(at + ": " + std::to_string(fields.size()) +
                        " fields, expected 4 (claimed_id real_id test_label score)");
    const auto score = parse_score(fields[3]);
    if (!score) throw FormatError(at + ": score '" + std::string(fields[3]) + "' is not a finite number");
    out.push_back({std::string(fields[0]), std::string(fields[1]), std::string(fields[2]), {}, *score});
  }
  if (out.empty()) throw FormatError(where + ": no comparisons (expected lines 'claimed_id real_id test_label score')");
  return out;
}

std::vector<ScoreRecord> load_four_column(const std::filesystem::path& path) {
  return parse_four_column(read_text(path, "score file"), "score file '" + path.string() + "'");
}

std::string format_four_column(std::span<const ScoreRecord> records) {
  std::string out;
  out.reserve(records.size() * 48);
  char number[40];
  for (const auto& r : records) {
    for (const std::string* field : {&r.claimed_id, &r.real_id, &r.test_label}) {
      if (field->empty() || std::any_of(field->begin(), field->end(), [](char c) { return is_blank(c) || c == '\n'; }))
        throw InvalidArgument("four-column score file: id or label '" + *field + "' is empty or holds a blank");
      out += *field;
      out += ' ';
    }
    if (!std::isfinite(r.score)) throw InvalidArgument("four-column score file: a score is not finite");
    const auto res = std::to_chars(number, number + sizeof number, r.score);  // shortest round-trip form
    out.append(number, res.ptr);
    out += '\n';
  }
  return out;
}

std::string palm_identity(const ManifestEntry& entry) {
  return entry.subject + "/" + std::string(internal::manifest_hand_text(entry.hand));
}

std::vector<ScoreRecord> parse_pair_score_csv(std::string_view text, const Manifest& manifest, const std::string& where) {
  std::unordered_map<std::string_view, std::size_t> index;
  const auto& entries = manifest.entries();
  for (std::size_t i = 0; i < entries.size(); ++i) index.emplace(entries[i].path, i);
  std::vector<std::string> palm(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) palm[i] = palm_identity(entries[i]);

  internal::CsvTableReader table(text, where, "a,b,score");
  const std::size_t ca = table.column("a"), cb = table.column("b"), cs = table.column("score");
  std::vector<ScoreRecord> out;
  std::vector<std::string> row;
  while (table.next(row)) {
    const std::string at = table.at();
    auto image = [&](const std::string& path) {
      const auto it = index.find(path);
      if (it == index.end()) throw FormatError(at + ": '" + path + "' is not in the manifest");
      return it->second;
    };
    const std::size_t a = image(row[ca]), b = image(row[cb]);
    const auto score = parse_score(row[cs]);
    if (!score) throw FormatError(at + ": score '" + row[cs] + "' is not a finite number");
    out.push_back({palm[a], palm[b], entries[b].path, entries[a].path, *score});
  }
  if (out.empty()) throw FormatError(where + ": no score rows");
  return out;
}

std::vector<ScoreRecord> load_pair_score_csv(const std::filesystem::path& path, const Manifest& manifest) {
  return parse_pair_score_csv(read_text(path, "score file"), manifest, "score file '" + path.string() + "'");
}

std::vector<ScoreRecord> score_records(const Manifest& manifest, const PairScores& scores) {
  const std::size_t n = manifest.size();
  if (scores.images() != n) throw InvalidArgument("score table and manifest differ in size");
  const auto& e = manifest.entries();
  std::vector<ScoreRecord> out;
  out.reserve(scores.pairs());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      out.push_back({palm_identity(e[i]), palm_identity(e[j]), e[j].path, e[i].path, scores.score(i, j)});
  return out;
}

LabelledScores label_records(std::span<const ScoreRecord> records) {
  LabelledScores out;
  for (const auto& r : records) (r.genuine() ? out.genuine : out.impostor).push_back(r.score);
  return out;
}

SearchScores record_searches(std::span<const ScoreRecord> records, bool both_ways) {
  std::unordered_map<std::string_view, std::uint32_t> identity, probe;
  std::vector<std::string_view> probe_real;  // the probe's identity
  struct Cell {
    std::uint32_t probe, identity;
    double score;
  };
  std::vector<Cell> cells;
  auto add = [&](std::string_view probe_label, std::string_view real, std::string_view claimed, double score) {
    const auto id = identity.emplace(claimed, static_cast<std::uint32_t>(identity.size())).first->second;
    const auto [it, fresh] = probe.emplace(probe_label, static_cast<std::uint32_t>(probe.size()));
    if (fresh) probe_real.push_back(real);
    cells.push_back({it->second, id, score});
  };
  for (const auto& r : records) {
    add(r.test_label, r.real_id, r.claimed_id, r.score);
    if (both_ways && !r.model_label.empty()) add(r.model_label, r.claimed_id, r.real_id, r.score);
  }
  SearchScores s;
  s.identities = identity.size();
  const double lowest = std::numeric_limits<double>::lowest();
  s.scores.assign(probe.size() * s.identities, lowest);
  std::vector<bool> compared(s.scores.size(), false);
  for (const auto& c : cells) {
    const std::size_t k = c.probe * s.identities + c.identity;
    s.scores[k] = compared[k] ? std::max(s.scores[k], c.score) : c.score;
    compared[k] = true;
  }
  s.mate.assign(probe.size(), -1);
  s.probe_identity.resize(probe.size());
  for (std::size_t p = 0; p < probe.size(); ++p) {
    const auto it = identity.find(probe_real[p]);
    if (it != identity.end() && compared[p * s.identities + it->second]) s.mate[p] = it->second;
    s.probe_identity[p] = it != identity.end() ? it->second : static_cast<std::uint32_t>(s.identities + p);
  }
  return s;
}

ErrorRates error_rates(std::span<const double> genuine, std::span<const double> impostor, double threshold) {
  if (genuine.empty() || impostor.empty()) throw InvalidArgument("error rates need genuine and impostor scores");
  const auto accepted = std::count_if(impostor.begin(), impostor.end(), [&](double s) { return s >= threshold; });
  const auto rejected = std::count_if(genuine.begin(), genuine.end(), [&](double s) { return s < threshold; });
  return {static_cast<double>(accepted) / static_cast<double>(impostor.size()),
          static_cast<double>(rejected) / static_cast<double>(genuine.size())};
}

std::vector<TransferredThreshold> transfer_thresholds(const LabelledScores& development, const LabelledScores& evaluation) {
  if (evaluation.genuine.empty() || evaluation.impostor.empty())
    throw InvalidArgument("the evaluation set needs genuine and impostor scores");
  const VerificationMetrics dev = verification_metrics(development.genuine, development.impostor);
  std::vector<std::pair<std::string, double>> criteria{{"eer", dev.eer_threshold}};
  for (const double fmr : {1e-2, 1e-3, 1e-4}) {
    criteria.emplace_back(fmr == 1e-2 ? "fmr=0.01" : fmr == 1e-3 ? "fmr=0.001" : "fmr=0.0001", dev.at(fmr).threshold);
  }
  std::vector<TransferredThreshold> out;
  for (const auto& [name, t] : criteria)
    out.push_back({name, t, error_rates(development.genuine, development.impostor, t),
                   error_rates(evaluation.genuine, evaluation.impostor, t)});
  return out;
}

}  // namespace v1
}  // namespace palmvein
