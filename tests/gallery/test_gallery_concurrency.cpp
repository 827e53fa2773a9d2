// SPDX-License-Identifier: Apache-2.0
// Concurrent readers and one writer on one gallery file, in one process: reader threads verify and
// identify synthetic palms (each on its own read-only Gallery, one on the writer's own instance) while
// the writer enrols and deletes. Every read must see a committed, authentic state; the enrolled palms
// must keep matching and a never-enrolled palm must never match. Run under ThreadSanitizer by
// scripts/tsan.sh; the multi-process version is scripts/soak.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "palmvein/enrollment.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/synthetic.hpp"

namespace fs = std::filesystem;
using namespace palmvein;

namespace {

constexpr int kReaders = 3;       // reader threads besides the writer
constexpr int kWriterRounds = 4;  // enrol every writer palm, delete all but the last, per round
constexpr int kMinReads = 3;      // each reader does at least this many rounds, however fast the writer

const std::vector<std::uint64_t> kBasePalms = {1, 2, 3};    // enrolled before the readers start
const std::vector<std::uint64_t> kWriterPalms = {4, 5, 6};  // enrolled and deleted while they read
constexpr std::uint64_t kStrangerPalm = 99;                 // never enrolled

std::string id_of(std::uint64_t palm) { return "palm-" + std::to_string(palm); }

class GalleryConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("palmvein-concurrency-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = dir_ / "palms.db";
    ::setenv("XDG_CONFIG_HOME", (dir_ / "config").c_str(), 1);
    ::unsetenv("PALMVEIN_KEY_FILE");
    for (const auto palm : kBasePalms) prepare(palm);
    for (const auto palm : kWriterPalms) prepare(palm);
    prepare(kStrangerPalm);
    threshold_ = separating_threshold();
  }
  void TearDown() override { fs::remove_all(dir_); }

  GalleryOptions options(bool read_only = false) const {
    GalleryOptions o;
    o.key_file = dir_ / "key" / "gallery.key";
    o.read_only = read_only;
    o.create = !read_only;
    o.busy_timeout = std::chrono::milliseconds(20000);  // generous: TSan slows the writer tenfold
    return o;
  }

  // Two enrolment templates and one later probe of `palm`.
  void prepare(std::uint64_t palm) {
    SyntheticFrameSettings settings;
    const SyntheticPalm model(SyntheticPalmId{palm, Hand::Left, 0}, settings.width, settings.height);
    std::vector<Template> found;
    for (std::uint64_t i = 0; i < 200 && found.size() < 3; i += found.empty() ? 1 : 10) {
      auto r = extractor_.extract(model.render(i, settings), ImageKind::FullHand);
      if (r.ok()) found.push_back(*r.templ);
    }
    ASSERT_EQ(found.size(), 3u) << "no usable captures of palm " << palm;
    enrol_[palm] = {found[0].to_bytes(), found[1].to_bytes()};
    probe_.emplace(palm, found[2]);
  }
  // Between the worst genuine and the best impostor score of the prepared palms (checked to exist).
  double separating_threshold() const {
    double genuine = 1, impostor = 0;
    for (const auto& [probe_palm, probe] : probe_) {
      const Matcher m(probe);
      for (const auto& [palm, templates] : enrol_) {
        double best = 0;
        for (const auto& t : templates) best = std::max(best, m.score(Template::from_bytes(t)));
        if (palm == probe_palm) genuine = std::min(genuine, best);
        else impostor = std::max(impostor, best);
      }
    }
    EXPECT_GT(genuine, impostor) << "synthetic genuine scores do not all outscore the impostor scores";
    return (genuine + impostor) / 2;
  }
  EnrollRequest request(std::uint64_t palm) const {
    EnrollRequest r;
    r.id = id_of(palm);
    r.hand = Hand::Left;
    r.algorithm = probe_.at(palm).algorithm();
    r.templates = enrol_.at(palm);
    return r;
  }

  fs::path dir_, db_;
  TemplateExtractor extractor_;
  std::map<std::uint64_t, std::vector<std::vector<std::uint8_t>>> enrol_;
  std::map<std::uint64_t, Template> probe_;
  double threshold_ = 0;
};

}  // namespace

TEST_F(GalleryConcurrency, ReadersVerifyAndIdentifyWhileOneWriterEnrolsAndDeletes) {
  Gallery writer = Gallery::open(db_, options());
  for (const auto palm : kBasePalms) writer.enroll(request(palm));

  std::mutex errors_mutex;
  std::vector<std::string> errors;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(errors_mutex);
    errors.push_back(what);
  };
  std::atomic<bool> writer_done{false};
  std::atomic<int> reads{0};

  auto read_rounds = [&](const Gallery& gallery, int reader) {
    const DecisionThreshold threshold = DecisionThreshold::at_score(threshold_);
    for (int round = 0; round < kMinReads || !writer_done; ++round) {
      const std::uint64_t palm = kBasePalms[static_cast<std::size_t>(round + reader) % kBasePalms.size()];
      const std::string who = "reader " + std::to_string(reader) + " round " + std::to_string(round) + ": ";
      // 1:1 against an identity that is always enrolled (the library's flow: Gallery::verify).
      if (!gallery.verify(id_of(palm), std::nullopt, probe_.at(palm), threshold).accepted)
        fail(who + id_of(palm) + " was not verified");
      // 1:N: the enrolled palm is found, the stranger is not, a writer palm is found whenever listed.
      const Identifier identifier = Identifier::load(gallery);
      const auto found = identifier.identify(probe_.at(palm), threshold);
      if (!found.found() || found.identity->id != id_of(palm)) fail(who + id_of(palm) + " was not identified");
      const auto stranger = identifier.identify(probe_.at(kStrangerPalm), threshold);
      if (stranger.found()) fail(who + "the stranger matched " + stranger.identity->id);
      const std::uint64_t moving = kWriterPalms[static_cast<std::size_t>(round) % kWriterPalms.size()];
      const auto stored = gallery.templates_of(id_of(moving));
      if (!stored.empty() && stored.size() != enrol_.at(moving).size()) fail(who + "a partial enrolment was visible");
      if (!stored.empty()) {
        auto verify = make_gallery_search();
        verify->load(stored);
        const auto m = verify->rank(probe_.at(moving), 1);
        if (m.empty() || m[0].score < threshold_) fail(who + id_of(moving) + " is listed but was not verified");
      }
      ++reads;
    }
  };

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r)
    readers.emplace_back([&, r] {
      try {
        if (r == 0) {
          read_rounds(writer, r);  // the writer's own instance, shared between threads
        } else {
          const Gallery own = Gallery::open(db_, options(true));
          read_rounds(own, r);
        }
      } catch (const std::exception& e) {
        fail("reader " + std::to_string(r) + " threw: " + e.what());
      }
    });

  std::set<std::string> expected;
  for (const auto palm : kBasePalms) expected.insert(id_of(palm));
  std::thread writing([&] {
    try {
      for (int round = 0; round < kWriterRounds; ++round) {
        for (const auto palm : kWriterPalms) writer.enroll(request(palm));
        const bool last = round + 1 == kWriterRounds;
        for (const auto palm : kWriterPalms)
          if (!last || palm != kWriterPalms.back())
            if (writer.remove(id_of(palm)) != 1) fail("writer: " + id_of(palm) + " was not removed once");
      }
    } catch (const std::exception& e) {
      fail(std::string("writer threw: ") + e.what());
    }
    writer_done = true;
  });
  expected.insert(id_of(kWriterPalms.back()));

  writing.join();
  for (auto& t : readers) t.join();
  for (const auto& e : errors) ADD_FAILURE() << e;
  EXPECT_GE(reads.load(), kReaders * kMinReads);

  // Afterwards a fresh reader sees exactly the base palms and the writer's last enrolment, and each verifies.
  const Gallery after = Gallery::open(db_, options(true));
  std::set<std::string> listed;
  for (const auto& info : after.list()) listed.insert(info.id);
  EXPECT_EQ(listed, expected);
  auto search = make_gallery_search();
  for (const std::string& id : expected) {
    search->load(after.templates_of(id));
    const std::uint64_t palm = std::stoull(id.substr(id.find('-') + 1));
    EXPECT_GE(search->rank(probe_.at(palm), 1).at(0).score, threshold_) << id;
  }
}
