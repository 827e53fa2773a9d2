// SPDX-License-Identifier: Apache-2.0
// Python bindings of the gallery store (encrypted SQLite, docs/gallery.md) and enrolment.
// A Gallery object is used by one thread at a time (as the C++ class); open one per thread or
// process to share a database file.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "palmvein/calibration.hpp"
#include "palmvein/enrollment.hpp"
#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/template.hpp"

namespace palmvein::python {
namespace {

py::bytes to_py_bytes(const std::vector<std::uint8_t>& bytes) {
  return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Templates given as palmvein.Template objects or as serialized bytes.
// With check_templates false, bytes are stored as given (the gallery treats templates as opaque, as the
// C++ API does); the algorithm is then the caller's.
std::vector<std::vector<std::uint8_t>> template_bytes(const py::sequence& templates, std::uint16_t& algorithm,
                                                      bool check_templates) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const py::handle item : templates) {
    if (!check_templates) {
      const std::string bytes = item.cast<py::bytes>();
      out.emplace_back(bytes.begin(), bytes.end());
      continue;
    }
    Template t = py::isinstance<Template>(item) ? item.cast<Template>() : [&] {
      const std::string bytes = item.cast<py::bytes>();
      return Template::from_bytes(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    }();
    if (!out.empty() && t.algorithm() != algorithm)
      throw InvalidArgument("the templates of one enrolment must be of one algorithm");
    algorithm = t.algorithm();
    out.push_back(t.to_bytes());
  }
  if (out.empty()) throw InvalidArgument("an enrolment needs at least one template");
  return out;
}

DecisionThreshold threshold_of(const std::optional<DecisionThreshold>& threshold, double fmr) {
  return threshold ? *threshold : DecisionThreshold::at_fmr(fmr);
}

// For a PersonProbe: `fmr` is the rate per person; with both hands it may lie below one hand's
// calibrated range (two_hand_threshold checks it), so it is not read from the calibration here.
DecisionThreshold person_threshold_of(const std::optional<DecisionThreshold>& threshold, double fmr,
                                      const PersonProbe& probe) {
  if (threshold) return *threshold;
  if (!probe.both()) return DecisionThreshold::at_fmr(fmr);
  DecisionThreshold asked;
  asked.fmr = fmr;
  return asked;
}

}  // namespace

void bind_gallery(py::module_& m) {
  py::enum_<Hand>(m, "Hand")
      .value("Left", Hand::Left)
      .value("Right", Hand::Right)
      .value("Unknown", Hand::Unknown)
      .def_property_readonly("code", [](Hand h) { return std::string(to_string(h)); });
  m.def("parse_hand", &parse_hand, py::arg("text"), "'L', 'R' or 'U' (also 'left', 'right') as a Hand.");
  py::enum_<GalleryFault>(m, "GalleryFault")
      .value("WrongKey", GalleryFault::WrongKey)
      .value("Tampered", GalleryFault::Tampered)
      .value("NotFound", GalleryFault::NotFound)
      .value("AlreadyExists", GalleryFault::AlreadyExists)
      .value("Busy", GalleryFault::Busy)
      .value("Corrupt", GalleryFault::Corrupt)
      .value("TooNew", GalleryFault::TooNew)
      .value("Key", GalleryFault::Key)
      .value("Io", GalleryFault::Io)
      .value("NeedsMigration", GalleryFault::NeedsMigration);
  py::enum_<EnrollMode>(m, "EnrollMode")
      .value("Create", EnrollMode::Create)
      .value("Replace", EnrollMode::Replace)
      .value("Add", EnrollMode::Add);

  py::class_<IdentityInfo>(m, "IdentityInfo")
      .def_readonly("id", &IdentityInfo::id)
      .def_readonly("display_name", &IdentityInfo::display_name)
      .def_readonly("hand", &IdentityInfo::hand)
      .def_readonly("created", &IdentityInfo::created)
      .def_readonly("updated", &IdentityInfo::updated)
      .def_readonly("algorithm", &IdentityInfo::algorithm)
      .def_readonly("template_count", &IdentityInfo::template_count)
      .def("__repr__", [](const IdentityInfo& i) {
        return "<palmvein.IdentityInfo " + i.id + " hand " + std::string(to_string(i.hand)) + ", " +
               std::to_string(i.template_count) + " templates>";
      });
  py::class_<StoredTemplate>(m, "StoredTemplate")
      .def_readonly("row_id", &StoredTemplate::row_id)
      .def_readonly("id", &StoredTemplate::id)
      .def_readonly("hand", &StoredTemplate::hand)
      .def_readonly("algorithm", &StoredTemplate::algorithm)
      .def_property_readonly("data", [](const StoredTemplate& t) { return to_py_bytes(t.bytes); })
      .def_property_readonly("template", [](const StoredTemplate& t) { return Template::from_bytes(t.bytes); });

  py::class_<PersonProbe>(m, "PersonProbe",
                          "A person presented with one palm or both: verify/identify use both hands (min fusion) "
                          "when both are set.")
      .def(py::init([](std::optional<Template> left, std::optional<Template> right) { return PersonProbe{left, right}; }),
           py::arg("left") = std::nullopt, py::arg("right") = std::nullopt)
      .def_readwrite("left", &PersonProbe::left)
      .def_readwrite("right", &PersonProbe::right)
      .def_property_readonly("both", &PersonProbe::both);
  m.def("two_hand_threshold", &two_hand_threshold, py::arg("threshold"),
        "The threshold on a fused two-hand score: at fmr F, the calibrated score at the per-hand rate sqrt(F) "
        "(independent hands); a score threshold unchanged.");
  m.def("fuse_hand_scores", &fuse_hand_scores, py::arg("left"), py::arg("right"),
        "A person's two hand scores as one: the lower (both hands must match).");
  py::class_<IdentityScore>(m, "IdentityScore")
      .def_readonly("id", &IdentityScore::id)
      .def_readonly("hand", &IdentityScore::hand)
      .def_readonly("score", &IdentityScore::score)
      .def_readonly("templates", &IdentityScore::templates)
      .def_readonly("left_score", &IdentityScore::left_score)
      .def_readonly("right_score", &IdentityScore::right_score)
      .def("__repr__", [](const IdentityScore& s) {
        return "IdentityScore(id='" + s.id + "', hand=" + std::string(to_string(s.hand)) + ", score=" +
               std::to_string(s.score) + ")";
      });
  py::class_<VerificationResult>(m, "VerificationResult")
      .def_readonly("accepted", &VerificationResult::accepted)
      .def_readonly("id", &VerificationResult::id)
      .def_readonly("hand", &VerificationResult::hand)
      .def_readonly("score", &VerificationResult::score)
      .def_readonly("threshold", &VerificationResult::threshold)
      .def_readonly("templates_compared", &VerificationResult::templates_compared)
      .def_readonly("two_hands", &VerificationResult::two_hands)
      .def_readonly("left_score", &VerificationResult::left_score)
      .def_readonly("right_score", &VerificationResult::right_score)
      .def("__bool__", [](const VerificationResult& r) { return r.accepted; });
  py::class_<IdentificationResult>(m, "IdentificationResult")
      .def_readonly("identity", &IdentificationResult::identity)
      .def_readonly("candidates", &IdentificationResult::candidates)
      .def_readonly("threshold", &IdentificationResult::threshold)
      .def_readonly("templates_compared", &IdentificationResult::templates_compared)
      .def_readonly("two_hands", &IdentificationResult::two_hands)
      .def_property_readonly("found", &IdentificationResult::found);

  py::class_<Gallery>(m, "Gallery", "The enrolled identities: an encrypted SQLite file (docs/gallery.md).")
      .def_static("open", [](const std::filesystem::path& path, std::optional<std::filesystem::path> key_file,
                             std::optional<bool> create, bool read_only, double busy_timeout_s) {
        GalleryOptions o;
        if (key_file) o.key_file = *key_file;
        o.create = create.value_or(!read_only);
        o.read_only = read_only;
        o.busy_timeout = std::chrono::milliseconds(static_cast<long long>(busy_timeout_s * 1000));
        o.check();
        py::gil_scoped_release release;
        return Gallery::open(path, o);
      }, py::arg("path"), py::arg("key_file") = std::nullopt, py::arg("create") = std::nullopt, py::arg("read_only") = false,
         py::arg("busy_timeout_s") = 5.0,
         "Opens (or creates) a gallery. key_file: None resolves $PALMVEIN_KEY_FILE, then the default key. "
         "create: None creates unless read_only.")
      .def("enroll", [](Gallery& g, const std::string& id, const py::sequence& templates, Hand hand,
                        const std::string& display_name, EnrollMode mode, bool check_templates,
                        std::uint16_t algorithm) {
        EnrollRequest r;
        r.id = id;
        r.display_name = display_name;
        r.hand = hand;
        r.algorithm = algorithm;
        r.templates = template_bytes(templates, r.algorithm, check_templates);
        r.mode = mode;
        py::gil_scoped_release release;
        return g.enroll(r);
      }, py::arg("id"), py::arg("templates"), py::arg("hand") = Hand::Unknown, py::arg("display_name") = "",
         py::arg("mode") = EnrollMode::Create, py::kw_only(), py::arg("check_templates") = true,
         py::arg("algorithm") = 0,
         "Stores templates (Template objects or bytes) for (id, hand); GalleryError 'already-exists' unless mode says otherwise. "
         "check_templates=False stores bytes unparsed, under `algorithm` (for tools that move templates).")
      .def("enroll_many", [](Gallery& g, const py::sequence& requests) {
        std::vector<EnrollRequest> batch;
        for (const py::handle item : requests) {
          const auto t = item.cast<py::tuple>();
          if (t.size() < 2 || t.size() > 5)
            throw InvalidArgument("each request is (id, templates[, hand[, display_name[, mode]]])");
          EnrollRequest r;
          r.id = t[0].cast<std::string>();
          r.templates = template_bytes(t[1].cast<py::sequence>(), r.algorithm, true);
          if (t.size() > 2) r.hand = t[2].cast<Hand>();
          if (t.size() > 3) r.display_name = t[3].cast<std::string>();
          if (t.size() > 4) r.mode = t[4].cast<EnrollMode>();
          batch.push_back(std::move(r));
        }
        py::gil_scoped_release release;
        return g.enroll(batch);
      }, py::arg("requests"),
         "Many enrolments in one transaction, all or none: a sequence of (id, templates[, hand[, display_name[, "
         "mode]]]). Much faster than enroll() one at a time for a large population.")
      .def("for_each_template", [](const Gallery& g, const py::function& take) {
        g.for_each_template([&](StoredTemplate&& t) { take(std::move(t)); });
      }, py::arg("take"), "Calls take(stored) for every template as it is decrypted (no list of them all).")
      .def("remove", [](Gallery& g, const std::string& id, std::optional<Hand> hand) { return g.remove(id, hand); },
           py::arg("id"), py::arg("hand") = std::nullopt, "Deletes an identity (one hand or both); returns rows removed.")
      .def("list", &Gallery::list)
      .def("find", [](const Gallery& g, const std::string& id, Hand hand) { return g.find(id, hand); },
           py::arg("id"), py::arg("hand") = Hand::Unknown)
      .def("templates_of", [](const Gallery& g, const std::string& id, std::optional<Hand> hand) {
        return g.templates_of(id, hand);
      }, py::arg("id"), py::arg("hand") = std::nullopt)
      .def("all_templates", [](const Gallery& g) {
        py::gil_scoped_release release;
        return g.all_templates();
      })
      .def("verify", [](const Gallery& g, const std::string& id, const Template& probe,
                        std::optional<DecisionThreshold> threshold, double fmr, std::optional<Hand> hand) {
        const DecisionThreshold t = threshold_of(threshold, fmr);
        py::gil_scoped_release release;
        return g.verify(id, hand, probe, t);
      }, py::arg("id"), py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4,
         py::arg("hand") = std::nullopt,
         "1:1: is `probe` the enrolled `id` (that hand, or any)? Best score over its templates vs the threshold "
         "(default: the built-in calibration at `fmr`). GalleryError 'not-found' for an unknown id.")
      .def("verify", [](const Gallery& g, const std::string& id, const PersonProbe& probe,
                        std::optional<DecisionThreshold> threshold, double fmr) {
        const DecisionThreshold t = person_threshold_of(threshold, fmr, probe);
        py::gil_scoped_release release;
        return g.verify(id, probe, t);
      }, py::arg("id"), py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4,
         "1:1 with a PersonProbe: both hands fused (min) at two_hand_threshold(), or one hand of that side.")
      .def("identify", [](const Gallery& g, const Template& probe, std::optional<DecisionThreshold> threshold,
                          double fmr, std::size_t k) {
        const DecisionThreshold t = threshold_of(threshold, fmr);
        py::gil_scoped_release release;
        return g.identify(probe, t, k);
      }, py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4, py::arg("k") = 1,
         "1:N: the k best identities and the rank-1 one if it reaches the threshold. For many probes, load an "
         "Identifier once.")
      .def("identify", [](const Gallery& g, const PersonProbe& probe, std::optional<DecisionThreshold> threshold,
                          double fmr, std::size_t k) {
        const DecisionThreshold t = person_threshold_of(threshold, fmr, probe);
        py::gil_scoped_release release;
        return g.identify(probe, t, k);
      }, py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4, py::arg("k") = 1,
         "1:N with a PersonProbe: both hands searched and fused per person (min), or one hand's gallery.")
      .def_property_readonly("schema_version", &Gallery::schema_version)
      .def_property_readonly("stored_template_count", &Gallery::stored_template_count,
                             "Template rows in the file, counted without authentication: a size hint.")
      .def_property_readonly("path", &Gallery::path);
}


void bind_gallery_flows(py::module_& m) {
  py::class_<Verifier>(m, "Verifier", "One identity's templates loaded once for many 1:1 verifications (thread-safe).")
      .def_static("load", [](const Gallery& g, const std::string& id, std::optional<Hand> hand) {
        return Verifier::load(g, id, hand);
      }, py::arg("gallery"), py::arg("id"), py::arg("hand") = std::nullopt)
      .def("verify", [](const Verifier& v, const Template& probe, std::optional<DecisionThreshold> threshold,
                        double fmr) {
        const DecisionThreshold t = threshold_of(threshold, fmr);
        py::gil_scoped_release release;
        return v.verify(probe, t);
      }, py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4)
      .def("verify", [](const Verifier& v, const PersonProbe& probe, std::optional<DecisionThreshold> threshold,
                        double fmr) {
        const DecisionThreshold t = person_threshold_of(threshold, fmr, probe);
        py::gil_scoped_release release;
        return v.verify(probe, t);
      }, py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4)
      .def_property_readonly("id", &Verifier::id)
      .def_property_readonly("template_count", &Verifier::template_count);
  py::class_<Identifier>(m, "Identifier", "A gallery's templates in the 1:N engine, loaded once (thread-safe).")
      .def_static("load", [](const Gallery& g) {
        py::gil_scoped_release release;
        return Identifier::load(g);
      }, py::arg("gallery"))
      .def("identify", [](const Identifier& i, const Template& probe, std::optional<DecisionThreshold> threshold,
                          double fmr, std::size_t k) {
        const DecisionThreshold t = threshold_of(threshold, fmr);
        py::gil_scoped_release release;
        return i.identify(probe, t, k);
      }, py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4, py::arg("k") = 1)
      .def("identify", [](const Identifier& i, const PersonProbe& probe, std::optional<DecisionThreshold> threshold,
                          double fmr, std::size_t k) {
        const DecisionThreshold t = person_threshold_of(threshold, fmr, probe);
        py::gil_scoped_release release;
        return i.identify(probe, t, k);
      }, py::arg("probe"), py::arg("threshold") = std::nullopt, py::arg("fmr") = 1e-4, py::arg("k") = 1)
      .def_property_readonly("template_count", &Identifier::template_count);
}

}  // namespace palmvein::python
