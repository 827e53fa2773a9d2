// SPDX-License-Identifier: Apache-2.0
// Python bindings of the sensor SDK (drivers/include/palmvein/sensor.hpp): enumerate, open by URI,
// grab frames as numpy arrays. A Sensor is used by one thread at a time, except cancel(), which may
// be called from another thread to end a waiting grab(). grab() releases the GIL while it waits.
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>

#include "bindings.hpp"
#include "palmvein/extractor.hpp"
#ifdef PALMVEIN_PYTHON_HAVE_DRIVERS
#include "palmvein/sensor.hpp"
#endif

namespace palmvein::python {

#ifdef PALMVEIN_PYTHON_HAVE_DRIVERS
void bind_sensors(py::module_& m) {
  m.attr("HAVE_SENSORS") = true;
  py::enum_<DeviceFault>(m, "DeviceFault")
      .value("NotFound", DeviceFault::NotFound)
      .value("Busy", DeviceFault::Busy)
      .value("Permission", DeviceFault::Permission)
      .value("Protocol", DeviceFault::Protocol)
      .value("Timeout", DeviceFault::Timeout)
      .value("Removed", DeviceFault::Removed)
      .value("Io", DeviceFault::Io)
      .value("Cancelled", DeviceFault::Cancelled)
      .value("Unsupported", DeviceFault::Unsupported);
  py::class_<SensorInfo>(m, "SensorInfo")
      .def_readonly("uri", &SensorInfo::uri)
      .def_readonly("driver", &SensorInfo::driver)
      .def_readonly("name", &SensorInfo::name)
      .def_readonly("serial", &SensorInfo::serial)
      .def_readonly("firmware", &SensorInfo::firmware)
      .def("__repr__", [](const SensorInfo& i) { return "<palmvein.SensorInfo " + i.uri + " (" + i.name + ")>"; });
  py::class_<SensorCapabilities>(m, "SensorCapabilities")
      .def_readonly("width", &SensorCapabilities::width)
      .def_readonly("height", &SensorCapabilities::height)
      .def_readonly("bit_depth", &SensorCapabilities::bit_depth)
      .def_readonly("wavelengths_nm", &SensorCapabilities::wavelengths_nm)
      .def_readonly("illumination_levels", &SensorCapabilities::illumination_levels)
      .def_readonly("exposure_min_us", &SensorCapabilities::exposure_min_us)
      .def_readonly("exposure_max_us", &SensorCapabilities::exposure_max_us)
      .def_readonly("max_fps", &SensorCapabilities::max_fps);
  py::class_<Frame>(m, "Frame", "One sensor frame; .array is a numpy view of its pixels.")
      .def_readonly("image", &Frame::image)
      .def_property_readonly("array", [](py::object self) {
        return image_view(self.cast<const Frame&>().image, self);
      })
      .def_readonly("counter", &Frame::counter)
      .def_readonly("exposure_us", &Frame::exposure_us)
      .def_readonly("gain", &Frame::gain)
      .def_readonly("illumination_level", &Frame::illumination_level)
      .def_readonly("wavelength_nm", &Frame::wavelength_nm);
  py::class_<Sensor, std::unique_ptr<Sensor>>(m, "Sensor",
                                              "An open sensor. `with palmvein.open_sensor(uri) as s:` starts and stops it.")
      .def_property_readonly("info", &Sensor::info)
      .def_property_readonly("capabilities", &Sensor::capabilities)
      .def("start", &Sensor::start)
      .def("stop", &Sensor::stop)
      .def("grab", [](Sensor& s, double timeout_s) {
        py::gil_scoped_release release;
        return s.grab(std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)));
      }, py::arg("timeout_s") = 1.0, "The next frame (DeviceError 'timeout' when none came in time).")
      .def("cancel", &Sensor::cancel)
      .def("set_illumination", &Sensor::set_illumination, py::arg("wavelength_nm"), py::arg("level"))
      .def("set_exposure", &Sensor::set_exposure, py::arg("exposure_us"), py::arg("gain") = 1.0f)
      .def("__enter__", [](py::object self) {
        self.cast<Sensor&>().start();
        return self;
      })
      .def("__exit__", [](Sensor& s, py::args) {
        s.stop();
        return false;
      });
  // TemplateExtractor.extract(frame): a third overload, next to Image and numpy array.
  py::reinterpret_borrow<py::class_<TemplateExtractor>>(py::type::of<TemplateExtractor>())
      .def("extract", [](const TemplateExtractor& e, const Frame& frame, ImageKind kind) {
        py::gil_scoped_release release;
        return e.extract(frame.image, kind);
      }, py::arg("frame"), py::arg("kind") = ImageKind::FullHand);
  m.def("enumerate_sensors", [] {
    py::gil_scoped_release release;
    return enumerate_sensors();
  }, "The sensors present (the virtual sensor is always listed).");
  m.def("open_sensor", [](const std::string& uri) {
    py::gil_scoped_release release;
    return open_sensor(uri);
  }, py::arg("uri"), "Opens a sensor by URI ('virtual:?palm=7', 'file:DIR', 'usb:...', 'uvc:...').");
}
#else
void bind_sensors(py::module_& m) { m.attr("HAVE_SENSORS") = false; }
#endif

}  // namespace palmvein::python
