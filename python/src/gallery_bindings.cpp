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
      .def_property_readonly("schema_version", &Gallery::schema_version)
      .def_property_readonly("path", &Gallery::path);
}

}  // namespace palmvein::python
