// SPDX-License-Identifier: Apache-2.0
// The gallery: enrolled identities and their templates in one SQLite file, templates encrypted at
// rest (XChaCha20-Poly1305, libsodium). Design, schema and threat model: docs/gallery.md,
// docs/security.md.
//
// Thread-safety: a Gallery may be shared between threads; calls on one instance are serialised by an
// internal mutex (one SQLite connection). For parallel reads open one Gallery per thread. Many
// processes may open the same file at once: the database runs in WAL mode, readers never block the
// writer, and a writer waits up to GalleryOptions::busy_timeout for another writer.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/export.hpp"
#include "palmvein/hand.hpp"
#include "palmvein/template.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Identity ids and display names are UTF-8 text without control characters. These checks are the
// one place that decides (Gallery::enroll calls them; a front end may call them first to refuse before
// capturing). They throw InvalidArgument with one message when the text is too long (id 1..128
// bytes, name 0..256), is not valid UTF-8, or contains a C0 control (e.g. ESC of a terminal escape),
// DEL, a C1 control (U+0080..U+009F), a line/paragraph separator or a bidirectional formatting
// character (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069).
PALMVEIN_API void check_identity_id(std::string_view id);
// The same rules for a display name (0..256 bytes; empty allowed).
PALMVEIN_API void check_display_name(std::string_view name);
// `text` safe to print on a terminal: what the checks above refuse becomes an escape (\xNN for a byte
// that is not UTF-8 or is a C0 control or DEL, \uNNNN for other refused code points) and a backslash
// becomes \\; other UTF-8 text is kept. For ids and names stored by an older gallery, which may hold
// anything.
PALMVEIN_API std::string escape_text(std::string_view text);

// What went wrong with a gallery, for callers that react differently (the CLI maps all to exit 2).
enum class GalleryFault : std::uint8_t {
  WrongKey,       // the key does not open this database (key check value mismatch)
  Tampered,       // authentication failed: a modified, swapped or corrupt row, or an old, missing or
                  // extra row or identity (the authenticated gallery state, docs/security.md)
  NotFound,       // no such identity
  AlreadyExists,  // enrolling an existing identity without replace/add
  Busy,           // another writer held the database longer than busy_timeout
  Corrupt,        // not a palmvein gallery, or SQLite reports corruption
  TooNew,         // schema newer than this build understands
  Key,            // the key file is missing, unreadable, malformed or too open (permissions)
  Io,             // SQLite could not read or write the file
  NeedsMigration, // a read-only open found an older schema: one read-write open migrates it
};
// The fault's short name: "wrong-key", "tampered", "not-found", "already-exists", "busy", "corrupt",
// "too-new", "key", "io", "needs-migration" (Python's GalleryError.fault, the CLI's messages).
PALMVEIN_API std::string_view to_string(GalleryFault fault) noexcept;

// What every gallery operation throws for a gallery problem (bad arguments are InvalidArgument): an
// Error whose what() is the one-line message, with the fault for callers that react per kind.
class PALMVEIN_API GalleryError : public Error {
 public:
  // `message` is shown to the user as it is (what()).
  GalleryError(GalleryFault fault, const std::string& message) : Error(message), fault_(fault) {}
  // What went wrong (GalleryFault).
  GalleryFault fault() const noexcept { return fault_; }

 private:
  GalleryFault fault_;
};

// Where the key comes from. Resolution order: explicit path, then $PALMVEIN_KEY_FILE, then the
// default key file default_key_file(). Keys are 32 random bytes stored as 64 hex digits.
struct KeyLocation {
  std::filesystem::path path;  // the key file to use (it may not exist yet)
  bool from_default = false;  // true when neither an explicit path nor $PALMVEIN_KEY_FILE was given
};
// $XDG_CONFIG_HOME/palmvein/gallery.key, or ~/.config/palmvein/gallery.key.
PALMVEIN_API std::filesystem::path default_key_file();
// The key file by the resolution order above: `explicit_path` when not empty, else $PALMVEIN_KEY_FILE
// when set and not empty, else default_key_file(). Reads nothing from the file.
PALMVEIN_API KeyLocation resolve_key_file(const std::filesystem::path& explicit_path = {});
// Creates a new random key file (mode 0600; its folder is created with mode 0700). Never overwrites:
// throws GalleryError(Key) if the file exists.
PALMVEIN_API void create_key_file(const std::filesystem::path& path);

// How Gallery::open opens a gallery file.
struct PALMVEIN_API GalleryOptions {
  std::filesystem::path key_file;        // empty: resolve_key_file() (env var, then default)
  bool create = true;                    // create the database (and, for the default location, a key)
  // Open read-only (list, verify, identify): SQLITE_OPEN_READONLY, never writes to the file, so a
  // read-only file or folder still serves reads and a refused file is left exactly as it was. An older
  // schema is not migrated: GalleryError(NeedsMigration).
  bool read_only = false;
  std::chrono::milliseconds busy_timeout{5000};  // how long to wait for another writer
  // Test hook: called inside the enrolment transaction after each template row is inserted, with
  // the number inserted so far. Lets a test kill the process mid-enrolment. Not for production use.
  std::function<void(int inserted)> after_template_insert;
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

// What Gallery::open did about the key (so a tool can tell the user; the key itself is never shown).
struct KeyNotice {
  std::filesystem::path key_file;  // the key file in use
  bool created = false;            // a new random key was written there
};

// One enrolled (id, hand) entry as the gallery lists it (Gallery::list, find, enroll), without templates.
struct IdentityInfo {
  std::string id;             // the caller's identifier, e.g. "alice"
  std::string display_name;   // may be empty
  Hand hand = Hand::Unknown;  // which palm; an id may be enrolled once per hand
  std::int64_t created = 0;   // Unix seconds
  std::int64_t updated = 0;   // Unix seconds of the last enrol/replace/add
  std::uint16_t algorithm = 0;  // template algorithm id (0: unknown, from a v1 database)
  int template_count = 0;      // templates stored for this (id, hand)
};

// One decrypted template row.
struct StoredTemplate {
  std::int64_t row_id = 0;      // the row's number in the file (authenticated with the row)
  std::string id;               // the identity it belongs to
  Hand hand = Hand::Unknown;    // that identity's hand
  std::uint16_t algorithm = 0;  // the identity's template algorithm id (IdentityInfo::algorithm)
  std::vector<std::uint8_t> bytes;  // serialized Template (opaque to the gallery)
};

// What an enrolment does when the (id, hand) is already enrolled (EnrollRequest::mode).
enum class EnrollMode : std::uint8_t {
  Create,   // fail with AlreadyExists if (id, hand) is enrolled
  Replace,  // re-enrolment: drop the old templates of (id, hand), store the new ones
  Add,      // template update: keep the old templates, add the new ones (fails with NotFound if absent)
};

// One enrolment for Gallery::enroll: an identity's templates and what to do if it exists.
struct EnrollRequest {
  std::string id;                        // 1..128 bytes of UTF-8, no control characters (check_identity_id)
  std::string display_name;              // optional, 0..256 bytes (check_display_name); kept when empty on Replace/Add
  Hand hand = Hand::Unknown;             // which palm the templates come from
  std::uint16_t algorithm = 0;           // Template::algorithm() of the templates
  std::vector<std::vector<std::uint8_t>> templates;  // at least one
  EnrollMode mode = EnrollMode::Create;  // Create, Replace or Add (EnrollMode)
};

// A person presented with one palm or with both (docs/gallery.md, "Two hands"). A side that is set
// says which hand its template comes from: it is compared with that hand's enrolments only. With both
// sides set, identification and verification use both hands and fuse their scores
// (fuse_hand_scores); with one, they are the one-hand decisions restricted to that hand.
struct PersonProbe {
  std::optional<Template> left;   // a template of the left palm, if presented
  std::optional<Template> right;  // a template of the right palm, if presented
  // Both hands presented: the two-hand (fused) decisions apply.
  bool both() const noexcept { return left.has_value() && right.has_value(); }
  // No hand presented: every decision refuses it (InvalidArgument).
  bool empty() const noexcept { return !left && !right; }
};

// How a person's two hand scores become one: the lower of the two, so that both hands must match (the
// "min" rule). Chosen on the tune halves over sum and max (docs/open-set.md, "Two hands: the fusion
// rule"); the one place that says so.
inline constexpr double fuse_hand_scores(double left, double right) noexcept { return left < right ? left : right; }

// The threshold on a fused two-hand score for a decision asked for at `threshold`.
// * Read at a false-match rate F (`threshold.fmr` set): the calibration's score at the per-hand rate
//   sqrt(F). Why: another person passes the min rule only when both hands pass; if the two hands'
//   impostor scores are independent (two different palms, captured separately), that happens with
//   probability p(t)^2, p(t) the per-comparison rate of the calibration, so p = sqrt(F) gives F per
//   person compared. If a person's hands are alike the true rate lies between F and sqrt(F) (full
//   dependence); a caller who cannot accept that gives a score threshold. The result keeps fmr = F.
// * Given as a score (no `fmr`): applied to the fused score unchanged.
// Throws InvalidArgument when sqrt(F) is outside the calibrated range (Calibration::threshold_for_fmr).
PALMVEIN_API DecisionThreshold two_hand_threshold(const DecisionThreshold& threshold);
// The per-hand rate of a two-hand decision at false-match rate `person_fmr` (per person compared): its
// square root, as two_hand_threshold() uses it.
inline double two_hand_per_hand_fmr(double person_fmr) noexcept { return std::sqrt(person_fmr); }

// One enrolled identity's fused score against a probe.
struct IdentityScore {
  std::string id;             // the identity
  Hand hand = Hand::Unknown;  // Unknown for a two-hand score (both hands)
  double score = 0;           // for a two-hand score: fuse_hand_scores(left_score, right_score)
  int templates = 0;          // templates that were compared
  // A two-hand search (PersonProbe with both sides): each hand's score; empty otherwise.
  std::optional<double> left_score;
  std::optional<double> right_score;  // the right hand's, as left_score
};

// The answer of a 1:1 verification (Gallery::verify, Verifier).
struct VerificationResult {
  bool accepted = false;     // score >= threshold.score
  std::string id;            // the claimed identity
  Hand hand = Hand::Unknown; // the hand whose template scored best
  double score = 0;          // the best score over the identity's templates (max fusion)
  DecisionThreshold threshold;         // the threshold the decision was made at
  std::size_t templates_compared = 0;  // the identity's templates the probe was compared with
  // Both hands decided (PersonProbe with both sides): `score` is fuse_hand_scores(left_score,
  // right_score), each the best over that hand's templates; `hand` is Unknown; `threshold` is
  // two_hand_threshold() of the one asked for.
  bool two_hands = false;
  std::optional<double> left_score;   // both hands decided: the left hand's best score
  std::optional<double> right_score;  // both hands decided: the right hand's best score
};

// The answer of a 1:N identification (Gallery::identify, Identifier).
struct IdentificationResult {
  // The rank-1 candidate when its score reaches the threshold; empty otherwise.
  std::optional<IdentityScore> identity;
  std::vector<IdentityScore> candidates;  // best first, at most k; empty for an empty gallery
  DecisionThreshold threshold;            // the threshold the decision was made at
  std::size_t templates_compared = 0;     // templates searched (of the hands searched)
  // Both hands searched (PersonProbe with both sides): candidates are persons enrolled with both
  // hands, ranked by their fused score; `threshold` is two_hand_threshold() of the one asked for.
  bool two_hands = false;
  // Someone was identified (the rank-1 candidate reached the threshold).
  bool found() const noexcept { return identity.has_value(); }
};

// An open gallery file: enrolment, listing, deletion, and the verification / identification flows
// over its decrypted, authenticated templates (thread-safety: the header comment above).
class PALMVEIN_API Gallery {
 public:
  // Opens (or creates) the database at `path`, migrates an older schema, and checks the key.
  // Throws GalleryError (WrongKey, Corrupt, TooNew, Key, Io, Busy).
  static Gallery open(const std::filesystem::path& path, GalleryOptions options = {}, KeyNotice* notice = nullptr);
  ~Gallery();
  // Movable (the moved-from object may only be destroyed or assigned to), not copyable.
  Gallery(Gallery&&) noexcept;
  // Closes this gallery's connection and takes over `other`'s.
  Gallery& operator=(Gallery&&) noexcept;

  // Stores one enrolment in a single transaction: all of it, or (error, crash, kill) none of it.
  // Returns the identity as stored.
  IdentityInfo enroll(const EnrollRequest& request);
  // Several enrolments in one transaction: all are stored or none (the first failing request's
  // error is thrown and nothing is written). One state check and one new state for the batch, so
  // enrolling a large population in batches costs O(N) instead of O(N^2) (docs/gallery.md).
  // Requests are applied in order: a later request sees the earlier ones (e.g. Add after Create).
  std::vector<IdentityInfo> enroll(std::span<const EnrollRequest> requests);
  // Deletes an identity (one hand, or every hand when `hand` is empty). Returns how many (id, hand)
  // entries were removed (0 when none existed).
  int remove(std::string_view id, std::optional<Hand> hand = std::nullopt);

  // Every enrolled (id, hand), ordered by id then hand. Throws GalleryError(Tampered) as templates_of().
  std::vector<IdentityInfo> list() const;
  // One enrolled (id, hand), or nothing. Throws as list().
  std::optional<IdentityInfo> find(std::string_view id, Hand hand) const;
  // Decrypted templates of one identity (every hand when `hand` is empty); empty if not enrolled.
  // Throws GalleryError(Tampered) if any row fails authentication, if the identity's rows are not
  // exactly its authenticated set, or if the list of identities is not the authenticated one.
  // list() and find() check the same (without decrypting).
  std::vector<StoredTemplate> templates_of(std::string_view id, std::optional<Hand> hand = std::nullopt) const;
  // Every template (for 1:N identification). Throws GalleryError(Tampered) like templates_of().
  std::vector<StoredTemplate> all_templates() const;
  // all_templates() one template at a time, as each is decrypted: a caller building its own index
  // holds no second copy of the gallery. The same checks first; `take` runs under the gallery's lock
  // (it must not call back into this Gallery).
  void for_each_template(const std::function<void(StoredTemplate&& stored)>& take) const;
  // How many template rows the file holds, counted without authenticating them: a size hint (e.g. to
  // reserve an index before for_each_template), never a figure to trust.
  std::size_t stored_template_count() const;

  // 1:1 verification: does `probe` belong to the enrolled identity `id` (that hand, or any enrolled
  // hand when `hand` is empty)? The probe is compared with each of the identity's templates (a
  // Matcher over them; no 1:N index) and the best score decides. Throws GalleryError(NotFound) when
  // the identity is not enrolled, GalleryError(Tampered) like templates_of(), FormatError for a stored
  // template that does not parse, InvalidArgument for a probe of another algorithm.
  // To verify many probes against one identity, load a Verifier (enrollment.hpp) once.
  VerificationResult verify(std::string_view id, std::optional<Hand> hand, const Template& probe,
                            const DecisionThreshold& threshold) const;
  // 1:N identification: the `k` best identities for `probe` (0: every identity), exact scores of
  // the 1:N engine with max fusion, and the rank-1 identity if it reaches the threshold. Throws like
  // all_templates() and verify(). To identify many probes, load an Identifier (enrollment.hpp) once.
  IdentificationResult identify(const Template& probe, const DecisionThreshold& threshold, std::size_t k = 1) const;
  // The same for a person presented with one or both hands (PersonProbe; Verifier / Identifier
  // explain the rules). Throws InvalidArgument for an empty probe, GalleryError(NotFound) when `id`
  // has no enrolment of a presented hand, and what the one-probe overloads throw.
  VerificationResult verify(std::string_view id, const PersonProbe& probe, const DecisionThreshold& threshold) const;
  // Identification of a person presented with one or both hands (Identifier::identify(PersonProbe)).
  IdentificationResult identify(const PersonProbe& probe, const DecisionThreshold& threshold, std::size_t k = 1) const;

  // The schema version of the open file (kSchemaVersion once opened read-write: open migrates).
  int schema_version() const;
  // The file this gallery was opened from.
  const std::filesystem::path& path() const noexcept;

  // The schema version this build writes.
  static constexpr int kSchemaVersion = 3;

 private:
  struct Impl;
  explicit Gallery(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

PALMVEIN_NAMESPACE_END
