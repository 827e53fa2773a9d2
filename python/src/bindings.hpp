// SPDX-License-Identifier: Apache-2.0
// The parts of the palmvein Python extension (palmvein._palmvein), one function per area; module.cpp
// calls them in order. Shared helpers for numpy <-> palmvein::Image live here.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "palmvein/image.hpp"

namespace palmvein::python {

namespace py = pybind11;

// The exception classes of the package (palmvein.Error and its subclasses), made by bind_errors().
struct ErrorTypes {
  py::handle error, format_error, invalid_argument, io_error, gallery_error, device_error;
};
const ErrorTypes& error_types();

void bind_errors(py::module_& m);
void bind_core(py::module_& m);
void bind_gallery(py::module_& m);
void bind_gallery_flows(py::module_& m);
void bind_sensors(py::module_& m);

// A 2-D uint8 or uint16 numpy array (rows may be padded, pixels must be contiguous in a row) as an
// Image: one copy, the Image owns its pixels. Throws palmvein::InvalidArgument for other arrays.
Image image_from_array(const py::array& array, int significant_bits);
// A numpy view of the Image's pixels (no copy); `owner` keeps the Image alive while the view lives.
py::array image_view(const Image& image, py::handle owner);

}  // namespace palmvein::python
