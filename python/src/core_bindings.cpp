// SPDX-License-Identifier: Apache-2.0
// Python bindings of the recognition core: images, ROI and extraction, templates, 1:1 matching, the
// calibration, the 1:N index, verification metrics, and the synthetic benchmark gallery fill.
// The GIL is released wherever C++ works for more than a few microseconds (decoding, extraction,
// search, gallery fill); the objects bound here are safe to use from several Python threads as
// their C++ classes are (const methods concurrently, mutation exclusive: see each header).
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "palmvein_tools/bench_gallery.hpp"
#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/identification.hpp"
#include "palmvein/image.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/template.hpp"
#ifdef PALMVEIN_PYTHON_HAVE_DRIVERS
#include "palmvein/synthetic.hpp"
#endif

namespace palmvein::python {

Image image_from_array(const py::array& array, int significant_bits) {
  if (array.ndim() != 2)
    throw InvalidArgument("an image must be a 2-D array (height, width), got " + std::to_string(array.ndim()) + " dimensions");
  const bool gray8 = array.dtype().kind() == 'u' && array.itemsize() == 1;
  const bool gray16 = array.dtype().kind() == 'u' && array.itemsize() == 2;
  if (!gray8 && !gray16)
    throw InvalidArgument("an image must be a uint8 or uint16 array, got dtype " + std::string(py::str(array.dtype())));
  if (array.strides(1) != array.itemsize())
    throw InvalidArgument("the pixels of an image row must be contiguous (use numpy.ascontiguousarray)");
  if (array.strides(0) < array.shape(1) * array.itemsize())
    throw InvalidArgument("image rows overlap (negative or short row stride)");
  const int width = static_cast<int>(array.shape(1)), height = static_cast<int>(array.shape(0));
  const auto stride = static_cast<std::size_t>(array.strides(0));
  if (gray8) return Image::from_gray8(width, height, static_cast<const std::uint8_t*>(array.data()), stride);
  return Image::from_gray16(width, height, static_cast<const std::uint16_t*>(array.data()), stride,
                            significant_bits ? significant_bits : 16);
}

py::array image_view(const Image& image, py::handle owner) {
  const auto bpp = static_cast<py::ssize_t>(image.bytes_per_pixel());
  const std::vector<py::ssize_t> shape{image.height(), image.width()};
  const std::vector<py::ssize_t> strides{static_cast<py::ssize_t>(image.stride()), bpp};
  if (image.format() == PixelFormat::Gray8)
    return py::array(py::dtype::of<std::uint8_t>(), shape, strides, image.data(), owner);
  return py::array(py::dtype::of<std::uint16_t>(), shape, strides, image.data(), owner);
}

namespace {

// Bytes-like input (bytes, bytearray, memoryview, numpy uint8) as a span, without a copy.
std::span<const std::uint8_t> bytes_view(const py::buffer& buffer, py::buffer_info& info) {
  info = buffer.request();
  if (info.ndim != 1 || info.itemsize != 1 || (info.ndim == 1 && info.strides[0] != 1))
    throw InvalidArgument("expected a contiguous bytes-like object");
  return {static_cast<const std::uint8_t*>(info.ptr), static_cast<std::size_t>(info.size)};
}

py::bytes to_py_bytes(const std::vector<std::uint8_t>& bytes) {
  return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Template template_from(const py::buffer& buffer) {
  py::buffer_info info;
  return Template::from_bytes(bytes_view(buffer, info));
}

py::tuple point(const PointF& p) { return py::make_tuple(p.x, p.y); }

py::list points(const std::vector<PointF>& ps) {
  py::list out;
  for (const auto& p : ps) out.append(point(p));
  return out;
}

// Splitmix64's finaliser (Steele, Lea & Flood 2014): a stable, well-mixed 64-bit hash.
std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::size_t shard_of(std::uint64_t key, std::size_t shards) {
  if (shards == 0) throw InvalidArgument("the number of shards must be at least 1");
  return static_cast<std::size_t>(mix64(key) % shards);
}

void bind_images(py::module_& m) {
  py::enum_<PixelFormat>(m, "PixelFormat").value("Gray8", PixelFormat::Gray8).value("Gray16", PixelFormat::Gray16);
  py::enum_<ImageKind>(m, "ImageKind", "What an image shows: a full sensor frame or an already-cut ROI.")
      .value("FullHand", ImageKind::FullHand)
      .value("Roi", ImageKind::Roi);

  py::class_<Image>(m, "Image", py::buffer_protocol(),
                    "A grey image (8 or 16 bits). numpy.asarray(image) is a view of its pixels (no copy).")
      .def(py::init([](const py::array& array, int significant_bits) { return image_from_array(array, significant_bits); }),
           py::arg("array"), py::arg("significant_bits") = 0,
           "From a 2-D uint8 or uint16 array (copied once; the Image owns its pixels).")
      .def_property_readonly("width", &Image::width)
      .def_property_readonly("height", &Image::height)
      .def_property_readonly("format", &Image::format)
      .def_property_readonly("significant_bits", &Image::significant_bits)
      .def_property_readonly("shape", [](const Image& i) { return py::make_tuple(i.height(), i.width()); })
      .def("to_gray8", &Image::to_gray8, "An 8-bit copy (16-bit images scaled by their significant bits).")
      .def("numpy", [](py::object self) { return image_view(self.cast<const Image&>(), self); },
           "A numpy view of the pixels (no copy; keeps the Image alive).")
      .def_buffer([](Image& i) {
        const auto bpp = static_cast<py::ssize_t>(i.bytes_per_pixel());
        return py::buffer_info(i.data(), bpp,
                               i.format() == PixelFormat::Gray8 ? py::format_descriptor<std::uint8_t>::format()
                                                                : py::format_descriptor<std::uint16_t>::format(),
                               2, {static_cast<py::ssize_t>(i.height()), static_cast<py::ssize_t>(i.width())},
                               {static_cast<py::ssize_t>(i.stride()), bpp});
      })
      .def("__eq__", [](const Image& a, const Image& b) { return a == b; })
      .def("__repr__", [](const Image& i) {
        return "<palmvein.Image " + std::to_string(i.width()) + "x" + std::to_string(i.height()) +
               (i.format() == PixelFormat::Gray8 ? " gray8>" : " gray16>");
      });

  m.def("read_image", [](const std::string& path) {
    py::gil_scoped_release release;
    return read_image(path);
  }, py::arg("path"), "Reads a PNG, JPEG, BMP, PNM or TIFF file as a grey Image (FormatError when damaged).");
  m.def("decode_image", [](const py::buffer& encoded) {
    py::buffer_info info;
    const auto bytes = bytes_view(encoded, info);
    py::gil_scoped_release release;
    return decode_image(bytes);
  }, py::arg("encoded"), "Decodes image file bytes (PNG, JPEG, BMP, PNM, TIFF).");
  m.def("encode_image", [](const Image& image, const std::string& extension) {
    return to_py_bytes(encode_image(image, extension));
  }, py::arg("image"), py::arg("extension") = ".png", "Encodes an Image as file bytes ('.png', '.bmp', ...).");
  m.def("write_image", [](const std::string& path, const Image& image) { write_image(path, image); },
        py::arg("path"), py::arg("image"), "Writes an Image atomically (format from the file extension).");
}

void bind_extraction(py::module_& m) {
  py::enum_<RoiFailure>(m, "RoiFailure", "Why no ROI (and so no template) was made; str() gives the reason code.")
      .value("None_", RoiFailure::None)
      .value("NoHand", RoiFailure::NoHand)
      .value("HandCutOff", RoiFailure::HandCutOff)
      .value("TooDark", RoiFailure::TooDark)
      .value("TooBright", RoiFailure::TooBright)
      .value("Blurred", RoiFailure::Blurred)
      .value("TooClose", RoiFailure::TooClose)
      .value("TooFar", RoiFailure::TooFar)
      .value("NoKeyPoints", RoiFailure::NoKeyPoints)
      .def_property_readonly("code", [](RoiFailure f) { return std::string(to_string(f)); })
      .def_property_readonly("guidance", [](RoiFailure f) { return std::string(guidance(f)); });
  py::enum_<RoiMethod>(m, "RoiMethod")
      .value("Passthrough", RoiMethod::Passthrough)
      .value("FingerValleys", RoiMethod::FingerValleys)
      .value("PalmCircle", RoiMethod::PalmCircle);

  py::class_<CaptureQuality>(m, "CaptureQuality", "The parts of the ROI quality and what to fix first.")
      .def_readonly("exposure", &CaptureQuality::exposure)
      .def_readonly("sharpness", &CaptureQuality::sharpness)
      .def_readonly("centring", &CaptureQuality::centring)
      .def_readonly("size", &CaptureQuality::size)
      .def_readonly("advice", &CaptureQuality::advice);

  py::class_<PalmRoi>(m, "PalmRoi", "The normalised ROI and where it was found in the frame.")
      .def_readonly("image", &PalmRoi::image)
      .def_property_readonly("corners", [](const PalmRoi& r) {
        return py::make_tuple(point(r.corners[0]), point(r.corners[1]), point(r.corners[2]), point(r.corners[3]));
      })
      .def_property_readonly("hand_outline", [](const PalmRoi& r) { return points(r.hand_outline); })
      .def_property_readonly("key_points", [](const PalmRoi& r) { return points(r.key_points); })
      .def_readonly("rotation_degrees", &PalmRoi::rotation_degrees)
      .def_readonly("scale", &PalmRoi::scale)
      .def_readonly("quality", &PalmRoi::quality)
      .def_readonly("assessment", &PalmRoi::assessment)
      .def_readonly("method", &PalmRoi::method);

  py::class_<ExtractResult>(m, "ExtractResult", "A template, or the reason there is none (.failure).")
      .def_property_readonly("ok", &ExtractResult::ok)
      .def_property_readonly("template", [](const ExtractResult& r) -> std::optional<Template> { return r.templ; })
      .def_property_readonly("failure", [](const ExtractResult& r) { return r.roi.failure(); })
      .def_property_readonly("roi", [](const ExtractResult& r) -> std::optional<PalmRoi> {
        if (!r.roi.ok()) return std::nullopt;
        return r.roi.roi();
      })
      .def("__bool__", &ExtractResult::ok);

  py::class_<TemplateExtractor>(m, "TemplateExtractor",
                                "Frame or ROI to template. Thread-safe: extract() may run in several threads at once.")
      .def(py::init([](int roi_size) {
        ExtractorOptions options;
        options.roi.roi_size = roi_size;
        options.check();
        return TemplateExtractor(options);
      }), py::arg("roi_size") = RoiOptions{}.roi_size)
      .def("extract", [](const TemplateExtractor& e, const Image& image, ImageKind kind) {
        py::gil_scoped_release release;
        return e.extract(image, kind);
      }, py::arg("image"), py::arg("kind") = ImageKind::FullHand)
      .def("extract", [](const TemplateExtractor& e, const py::array& array, ImageKind kind) {
        const Image image = image_from_array(array, 0);
        py::gil_scoped_release release;
        return e.extract(image, kind);
      }, py::arg("image"), py::arg("kind") = ImageKind::FullHand,
         "Extracts a template from an Image or a 2-D uint8/uint16 array; the GIL is released meanwhile.");

  m.def("draw_roi_overlay", &draw_roi_overlay, py::arg("frame"), py::arg("roi"),
        "The frame with the ROI square, key points and outline drawn (for people to look at).");
}

void bind_templates(py::module_& m) {
  py::class_<Template>(m, "Template", "A versioned template (docs/template-format.md): a value, picklable.")
      .def_static("from_bytes", &template_from, py::arg("data"), "Parses template bytes (FormatError when damaged).")
      .def("to_bytes", [](const Template& t) { return to_py_bytes(t.to_bytes()); })
      .def_property_readonly("algorithm", &Template::algorithm)
      .def_property_readonly("size", &Template::serialized_size, "Bytes of to_bytes().")
      .def("__eq__", [](const Template& a, const Template& b) { return a.to_bytes() == b.to_bytes(); })
      .def("__hash__", [](const Template& t) { return py::hash(to_py_bytes(t.to_bytes())); })
      .def(py::pickle([](const Template& t) { return to_py_bytes(t.to_bytes()); },
                      [](const py::bytes& b) { return template_from(b); }))
      .def("__repr__", [](const Template& t) {
        return "<palmvein.Template algorithm " + std::to_string(t.algorithm()) + ", " +
               std::to_string(t.serialized_size()) + " bytes>";
      });

  m.attr("LOWEST_SCORE") = kLowestScore;
  m.def("match", [](const Template& a, const Template& b) { return match(a, b); }, py::arg("a"), py::arg("b"),
        "Similarity of two templates (higher: more alike); symmetric.");
  py::class_<Matcher>(m, "Matcher", "A probe prepared for many 1:1 comparisons (score() is thread-safe).")
      .def(py::init<const Template&>(), py::arg("probe"))
      .def("score", &Matcher::score, py::arg("candidate"))
      .def("scores", [](const Matcher& matcher, const std::vector<Template>& candidates) {
        std::vector<double> out(candidates.size());
        {
          py::gil_scoped_release release;
          for (std::size_t i = 0; i < candidates.size(); ++i) out[i] = matcher.score(candidates[i]);
        }
        return py::array_t<double>(static_cast<py::ssize_t>(out.size()), out.data());
      }, py::arg("candidates"), "Scores of many candidates as a numpy array.");

  py::class_<Calibration>(m, "Calibration", "Score <-> false-match rate (models/README.md).")
      .def_static("builtin", &Calibration::builtin, py::return_value_policy::reference)
      .def_static("load", [](const std::string& path) { return Calibration::load(path); }, py::arg("csv"))
      .def("threshold_for_fmr", &Calibration::threshold_for_fmr, py::arg("fmr"))
      .def("fmr_at", &Calibration::fmr_at, py::arg("score"))
      .def_property_readonly("fmr_range", &Calibration::fmr_range)
      .def_property_readonly("points", [](const Calibration& c) {
        py::list out;
        for (const auto& p : c.points()) out.append(py::make_tuple(p.score, p.fmr));
        return out;
      });
}

void bind_decisions(py::module_& m) {
  py::class_<DecisionThreshold>(m, "DecisionThreshold",
                                "The score a decision needs: at a false-match rate (built-in calibration) or given.")
      .def_static("at_fmr", &DecisionThreshold::at_fmr, py::arg("fmr"))
      .def_static("at_score", &DecisionThreshold::at_score, py::arg("score"))
      .def_readonly("score", &DecisionThreshold::score)
      .def_readonly("fmr", &DecisionThreshold::fmr)
      .def("__repr__", [](const DecisionThreshold& t) {
        return "DecisionThreshold(score=" + std::to_string(t.score) +
               (t.fmr ? ", fmr=" + std::to_string(*t.fmr) : std::string()) + ")";
      });
}

void bind_identification(py::module_& m) {
  py::enum_<SearchStrategy>(m, "SearchStrategy")
      .value("Exhaustive", SearchStrategy::Exhaustive)
      .value("CoarseToFine", SearchStrategy::CoarseToFine);
  py::enum_<PopcountKernel>(m, "PopcountKernel")
      .value("Auto", PopcountKernel::Auto)
      .value("Portable", PopcountKernel::Portable)
      .value("Avx2", PopcountKernel::Avx2)
      .value("Avx512", PopcountKernel::Avx512);
  py::class_<Candidate>(m, "Candidate")
      .def(py::init<>())
      .def_readonly("id", &Candidate::id)
      .def_readonly("score", &Candidate::score)
      .def("__eq__", [](const Candidate& a, const Candidate& b) { return a == b; })
      .def("__iter__", [](const Candidate& c) { return py::iter(py::make_tuple(c.id, c.score)); })
      .def("__repr__", [](const Candidate& c) {
        return "Candidate(id=" + std::to_string(c.id) + ", score=" + std::to_string(c.score) + ")";
      });

  py::class_<IdentificationIndex>(m, "IdentificationIndex",
                                  "The in-memory 1:N engine (docs/identification.md). search() may run in several "
                                  "threads at once; add/remove/clear are exclusive (the caller serialises them).")
      .def(py::init([](unsigned threads, SearchStrategy strategy, std::size_t shortlist, PopcountKernel kernel) {
        IdentificationOptions o;
        o.threads = threads;
        o.strategy = strategy;
        o.shortlist = shortlist;
        o.kernel = kernel;
        o.check();
        return std::make_unique<IdentificationIndex>(o);
      }), py::arg("threads") = 0, py::arg("strategy") = SearchStrategy::CoarseToFine, py::arg("shortlist") = 0,
         py::arg("kernel") = PopcountKernel::Auto)
      .def("add", &IdentificationIndex::add, py::arg("id"), py::arg("template"))
      .def("add_bytes", [](IdentificationIndex& index, std::uint64_t id, const py::buffer& bytes) {
        index.add(id, template_from(bytes));
      }, py::arg("id"), py::arg("data"), "add() of serialized template bytes.")
      .def("remove", &IdentificationIndex::remove, py::arg("id"), "Removes every entry of `id`; returns how many.")
      .def("reserve", &IdentificationIndex::reserve, py::arg("entries"))
      .def("clear", &IdentificationIndex::clear)
      .def("__len__", &IdentificationIndex::size)
      .def_property_readonly("size", &IdentificationIndex::size)
      .def_property_readonly("bytes_per_template", &IdentificationIndex::bytes_per_template)
      .def_property_readonly("shortlist_size", &IdentificationIndex::shortlist_size,
                             "Entries re-ranked exactly by a coarse-to-fine search at the current size.")
      .def_property_readonly("kernel", &IdentificationIndex::kernel)
      .def_property_readonly("strategy", [](const IdentificationIndex& i) { return i.options().strategy; })
      .def("search", [](const IdentificationIndex& index, const Template& probe, std::size_t k,
                        std::optional<SearchStrategy> strategy) {
        py::gil_scoped_release release;
        return strategy ? index.search(probe, k, *strategy) : index.search(probe, k);
      }, py::arg("probe"), py::arg("k"), py::arg("strategy") = std::nullopt,
         "The k best entries, best first (ties: smaller id first); scores equal match(probe, entry).")
      .def("identify", [](const IdentificationIndex& index, const Template& probe, double threshold) {
        py::gil_scoped_release release;
        return index.identify(probe, threshold);
      }, py::arg("probe"), py::arg("threshold"))
      .def("identify_at_fmr", [](const IdentificationIndex& index, const Template& probe, double fmr) {
        py::gil_scoped_release release;
        return index.identify_at_fmr(probe, fmr);
      }, py::arg("probe"), py::arg("fmr"));
  m.def("available_popcount_kernels", &available_popcount_kernels);
  m.def("shard_of", &shard_of, py::arg("key"), py::arg("shards"),
        "The shard (0..shards-1) of a 64-bit identity key: a stable hash (splitmix64), the same on every machine.");
}

void bind_metrics(py::module_& m) {
  py::class_<FnmrAtFmr>(m, "FnmrAtFmr")
      .def_readonly("target_fmr", &FnmrAtFmr::target_fmr)
      .def_readonly("fnmr", &FnmrAtFmr::fnmr)
      .def_readonly("threshold", &FnmrAtFmr::threshold)
      .def_readonly("reliable", &FnmrAtFmr::reliable);
  py::class_<VerificationMetrics>(m, "VerificationMetrics", "EER, FNMR@FMR and d' (../shared/PROTOCOL.md).")
      .def_readonly("genuine_pairs", &VerificationMetrics::genuine_pairs)
      .def_readonly("impostor_pairs", &VerificationMetrics::impostor_pairs)
      .def_readonly("eer", &VerificationMetrics::eer)
      .def_readonly("eer_threshold", &VerificationMetrics::eer_threshold)
      .def_readonly("fnmr_at_fmr", &VerificationMetrics::fnmr_at_fmr)
      .def_readonly("dprime", &VerificationMetrics::dprime)
      .def("at", &VerificationMetrics::at, py::arg("target_fmr"), py::return_value_policy::copy);
  const auto to_vector = [](const py::array_t<double, py::array::c_style | py::array::forcecast>& a) {
    if (a.ndim() != 1) throw InvalidArgument("scores must be a 1-D array");
    return std::vector<double>(a.data(), a.data() + a.size());
  };
  m.def("verification_metrics", [to_vector](const py::array_t<double, py::array::c_style | py::array::forcecast>& genuine,
                                            const py::array_t<double, py::array::c_style | py::array::forcecast>& impostor) {
    auto g = to_vector(genuine), i = to_vector(impostor);
    py::gil_scoped_release release;
    return verification_metrics(std::move(g), std::move(i));
  }, py::arg("genuine"), py::arg("impostor"), "Metrics from genuine and impostor score arrays.");
  m.def("det_curve", [to_vector](const py::array_t<double, py::array::c_style | py::array::forcecast>& genuine,
                                 const py::array_t<double, py::array::c_style | py::array::forcecast>& impostor) {
    std::vector<DetPoint> curve;
    {
      auto g = to_vector(genuine), i = to_vector(impostor);
      py::gil_scoped_release release;
      curve = det_curve(std::move(g), std::move(i));
    }
    py::array_t<double> out({static_cast<py::ssize_t>(curve.size()), py::ssize_t{3}});
    auto v = out.mutable_unchecked<2>();
    for (std::size_t r = 0; r < curve.size(); ++r) {
      v(r, 0) = curve[r].threshold;
      v(r, 1) = curve[r].fmr;
      v(r, 2) = curve[r].fnmr;
    }
    return out;
  }, py::arg("genuine"), py::arg("impostor"), "The DET curve as an (n, 3) array: threshold, FMR, FNMR.");

  // Open-set identification (docs/open-set.md) from the scores of searches someone else ran.
  py::class_<FnirAtFpir>(m, "FnirAtFpir")
      .def_readonly("target_fpir", &FnirAtFpir::target_fpir)
      .def_readonly("threshold", &FnirAtFpir::threshold)
      .def_readonly("fpir", &FnirAtFpir::fpir)
      .def_readonly("fnir", &FnirAtFpir::fnir)
      .def_readonly("fnir_list", &FnirAtFpir::fnir_list)
      .def_readonly("reliable", &FnirAtFpir::reliable);
  py::class_<OpenSetMetrics>(m, "OpenSetMetrics", "FNIR at FPIR and the CMC (ISO/IEC 19795-1; ../shared/PROTOCOL.md).")
      .def_readonly("mated_probes", &OpenSetMetrics::mated_probes)
      .def_readonly("nonmated_probes", &OpenSetMetrics::nonmated_probes)
      .def_readonly("candidate_list", &OpenSetMetrics::candidate_list)
      .def_readonly("fnir_at_fpir", &OpenSetMetrics::fnir_at_fpir)
      .def_property_readonly("cmc", [](const OpenSetMetrics& o) {
        return py::array_t<double>(static_cast<py::ssize_t>(o.cmc.size()), o.cmc.data());
      })
      .def("at", &OpenSetMetrics::at, py::arg("target_fpir"), py::return_value_policy::copy);
  m.def("open_set_metrics", [to_vector](const py::array_t<double, py::array::c_style | py::array::forcecast>& mate_scores,
                                        const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& mate_ranks,
                                        const py::array_t<double, py::array::c_style | py::array::forcecast>& nonmated_best,
                                        std::size_t candidate_list, std::size_t cmc_ranks) {
    if (mate_ranks.ndim() != 1 || mate_ranks.size() != mate_scores.size())
      throw InvalidArgument("mate_scores and mate_ranks must be 1-D arrays of one length");
    OpenSetScores scores;
    const auto mated = to_vector(mate_scores);
    for (std::size_t i = 0; i < mated.size(); ++i) {
      if (mate_ranks.data()[i] < 1) throw InvalidArgument("mate ranks start at 1");
      scores.mated.push_back(MatedSearch{mated[i], static_cast<std::size_t>(mate_ranks.data()[i])});
    }
    scores.nonmated_best = to_vector(nonmated_best);
    py::gil_scoped_release release;
    return open_set_metrics(scores, candidate_list, cmc_ranks);
  }, py::arg("mate_scores"), py::arg("mate_ranks"), py::arg("nonmated_best"), py::arg("candidate_list") = 10,
     py::arg("cmc_ranks") = 20,
     "Open-set metrics from mated searches (the mate's score and rank, 1 = first) and the best score of "
     "each non-mated search.");
  py::enum_<TailShape>(m, "TailShape").value("Fitted", TailShape::Fitted).value("Exponential", TailShape::Exponential);
  py::class_<TailModel>(m, "TailModel",
                        "Generalised Pareto tail of impostor scores (peaks over threshold): FPIR at gallery sizes "
                        "beyond the data (docs/open-set.md).")
      .def_static("fit", [to_vector](const py::array_t<double, py::array::c_style | py::array::forcecast>& impostor,
                                     double tail_fraction, TailShape shape) {
        auto scores = to_vector(impostor);
        py::gil_scoped_release release;
        return TailModel::fit(std::move(scores), tail_fraction, shape);
      }, py::arg("impostor"), py::arg("tail_fraction") = 0.02, py::arg("shape") = TailShape::Fitted)
      .def_property_readonly("u", &TailModel::u)
      .def_property_readonly("xi", &TailModel::xi)
      .def_property_readonly("sigma", &TailModel::sigma)
      .def_property_readonly("zeta", &TailModel::zeta)
      .def_property_readonly("exceedances", &TailModel::exceedances)
      .def("tail_probability", &TailModel::tail_probability, py::arg("t"))
      .def("threshold_for_tail", &TailModel::threshold_for_tail, py::arg("p"))
      .def("fpir", &TailModel::fpir, py::arg("gallery_size"), py::arg("t"))
      .def("threshold_for_fpir", &TailModel::threshold_for_fpir, py::arg("gallery_size"), py::arg("target"));
}

// palmvein.bench: the synthetic gallery of `palmvein bench identify` (docs/identification.md), or one
// shard of it, filled straight into an index (no template crosses into Python).
void bind_bench(py::module_& m) {
  py::class_<tools::BenchGallery>(m, "BenchGallery")
      .def_readonly("probes", &tools::BenchGallery::probes)
      .def_readonly("mate_ids", &tools::BenchGallery::mate_ids)
      .def_readonly("absent_probes", &tools::BenchGallery::absent_probes)
      .def_readonly("failures_to_acquire", &tools::BenchGallery::failures_to_acquire)
      .def_readonly("render_seconds", &tools::BenchGallery::render_seconds)
      .def_readonly("fill_seconds", &tools::BenchGallery::fill_seconds);
  m.def("fill_bench_gallery", [](IdentificationIndex& index, std::size_t size, std::size_t probes,
                                 std::size_t absent_probes, std::size_t source_palms, unsigned threads,
                                 const std::string& source, std::size_t shard, std::size_t shards) {
    tools::BenchGalleryOptions o;
    o.size = size;
    o.probes = std::min(probes, size);
    o.absent_probes = absent_probes;
    o.source_palms = source_palms;
    o.threads = threads;
    if (shards == 0 || shard >= shards) throw InvalidArgument("shard must be in 0..shards-1");
    if (shards > 1) o.keep = [shard, shards](std::uint64_t id) { return shard_of(id, shards) == shard; };
    tools::PalmRenderer render;
    if (source == "drawn") {
      o.kind = ImageKind::Roi;
      render = tools::drawn_palm_roi;
    } else if (source == "synthetic") {
#ifdef PALMVEIN_PYTHON_HAVE_DRIVERS
      o.kind = ImageKind::FullHand;
      render = [](std::uint64_t palm, std::uint64_t capture) {
        const SyntheticFrameSettings settings;
        const SyntheticPalm p(SyntheticPalmId{palm, Hand::Left, 0}, settings.width, settings.height);
        return p.render(capture, settings);
      };
#else
      throw InvalidArgument("source 'synthetic' needs the drivers (built with PALMVEIN_BUILD_DRIVERS=OFF)");
#endif
    } else {
      throw InvalidArgument("source must be 'synthetic' or 'drawn', got '" + source + "'");
    }
    py::gil_scoped_release release;
    return tools::build_bench_gallery(index, o, render);
  }, py::arg("index"), py::arg("size"), py::arg("probes") = 20, py::arg("absent_probes") = 0,
     py::arg("source_palms") = 200, py::arg("threads") = 0, py::arg("source") = "synthetic",
     py::arg("shard") = 0, py::arg("shards") = 1,
     "Fills `index` with the gallery of `palmvein bench identify --gallery SIZE` (same ids and templates), or "
     "with the entries of one shard of it (shard_of(id, shards) == shard). Probes are returned with their mates' ids.");
  m.def("resident_bytes", &tools::resident_bytes, "Resident memory of this process (VmRSS), bytes.");
}

}  // namespace

void bind_core(py::module_& m) {
  bind_images(m);
  bind_extraction(m);
  bind_templates(m);
  bind_decisions(m);
  bind_identification(m);
  bind_metrics(m);
  bind_bench(m);
}

}  // namespace palmvein::python
