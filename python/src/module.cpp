// SPDX-License-Identifier: Apache-2.0
// palmvein._palmvein: the pybind11 extension behind the Python package `palmvein` (docs/python.md).
// The C++ exceptions become Python exceptions of matching classes with the same messages:
//   palmvein.Error (RuntimeError) <- FormatError (also ValueError), InvalidArgument (also ValueError),
//   IoError (also OSError), GalleryError (.fault), DeviceError (.fault).
#include <string>

#include "bindings.hpp"
#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/version.hpp"
#ifdef PALMVEIN_PYTHON_HAVE_DRIVERS
#include "palmvein/sensor.hpp"
#endif

namespace palmvein::python {
namespace {

ErrorTypes g_errors;

// A new exception class palmvein.NAME with the given bases, added to the module.
py::handle new_exception(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  const std::string qualified = std::string("palmvein.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));
  return py::handle(type);
}

// Raises `type(message)` with a `fault` attribute ("wrong-key", "removed", ...).
void raise_with_fault(py::handle type, const char* message, std::string_view fault) {
  py::object exc = py::reinterpret_borrow<py::object>(type)(message);
  exc.attr("fault") = py::str(std::string(fault));
  PyErr_SetObject(type.ptr(), exc.ptr());
}

}  // namespace

const ErrorTypes& error_types() { return g_errors; }

void bind_errors(py::module_& m) {
  g_errors.error = new_exception(m, "Error", py::make_tuple(py::handle(PyExc_RuntimeError)),
                                 "Base class of every palmvein error.");
  g_errors.format_error = new_exception(m, "FormatError", py::make_tuple(g_errors.error, py::handle(PyExc_ValueError)),
                                        "Malformed input bytes: an image, template, manifest or key file.");
  g_errors.invalid_argument = new_exception(m, "InvalidArgument",
                                            py::make_tuple(g_errors.error, py::handle(PyExc_ValueError)),
                                            "An argument or option out of its range.");
  g_errors.io_error = new_exception(m, "IoError", py::make_tuple(g_errors.error, py::handle(PyExc_OSError)),
                                    "A file could not be read or written.");
  g_errors.gallery_error = new_exception(m, "GalleryError", py::make_tuple(g_errors.error),
                                         "A gallery failure; .fault names it (e.g. 'wrong-key', 'not-found').");
  g_errors.device_error = new_exception(m, "DeviceError", py::make_tuple(g_errors.error),
                                        "A sensor failure; .fault names it (e.g. 'not-found', 'removed').");
  // Most derived first: the translator tries the catch clauses in order.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const GalleryError& e) {
      raise_with_fault(g_errors.gallery_error, e.what(), to_string(e.fault()));
#ifdef PALMVEIN_PYTHON_HAVE_DRIVERS
    } catch (const DeviceError& e) {
      raise_with_fault(g_errors.device_error, e.what(), to_string(e.fault()));
#endif
    } catch (const FormatError& e) {
      PyErr_SetString(g_errors.format_error.ptr(), e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(g_errors.invalid_argument.ptr(), e.what());
    } catch (const IoError& e) {
      PyErr_SetString(g_errors.io_error.ptr(), e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_errors.error.ptr(), e.what());
    }
  });
}

}  // namespace palmvein::python

PYBIND11_MODULE(_palmvein, m) {
  namespace pv = palmvein;
  m.doc() = "palmvein: palm-vein recognition (C++ core). See docs/python.md.";
  m.attr("__version__") = pv::version_string();
  m.def("default_algorithm_id", &pv::default_algorithm_id, "The algorithm id of templates made by this build.");
  m.def("algorithm_name", [](std::uint16_t id) { return std::string(pv::algorithm_name(id)); },
        pybind11::arg("algorithm_id"), "The name of an algorithm id (e.g. 'bocv6-wld').");
  pv::python::bind_errors(m);
  pv::python::bind_core(m);
  pv::python::bind_gallery(m);
  pv::python::bind_gallery_flows(m);
  pv::python::bind_sensors(m);
}
