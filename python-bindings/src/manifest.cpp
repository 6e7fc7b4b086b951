// gopcast.Manifest: the HDF5 segment manifest (docs/manifest.md) read by the library's
// own reader, as numpy arrays named like the file's fields, so the module needs no h5py.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "core/error.hpp"
#include "manifest/manifest.hpp"

namespace fs = std::filesystem;

namespace gopcast::python {
namespace {

struct ManifestObj {
  fs::path path;
  manifest::Manifest data;
};

template <typename T, typename Row, typename F>
py::array_t<T> column(const std::vector<Row>& rows, F get) {
  py::array_t<T> a(static_cast<py::ssize_t>(rows.size()));
  auto out = a.template mutable_unchecked<1>();
  for (size_t i = 0; i < rows.size(); ++i) out(static_cast<py::ssize_t>(i)) = static_cast<T>(get(rows[i]));
  return a;
}

// Strings as a numpy unicode array (h5py gives the fixed-length fields as bytes).
template <typename Row, typename F>
py::array text_column(const std::vector<Row>& rows, F get) {
  py::list values;
  for (const auto& r : rows) values.append(py::str(get(r)));
  return py::module_::import("numpy").attr("array")(values, py::arg("dtype") = "str");
}


py::dict segments(const ManifestObj& m) {
  using R = manifest::SegmentRecord;
  const auto& rows = m.data.segments;
  py::dict d;
  d["index"] = column<int32_t>(rows, [](const R& r) { return r.segment.index; });
  d["first_frame"] = column<int64_t>(rows, [](const R& r) { return r.segment.first_frame; });
  d["last_frame"] = column<int64_t>(rows, [](const R& r) { return r.segment.end_frame - 1; });
  d["frames"] = column<int64_t>(rows, [](const R& r) { return r.segment.frames(); });
  d["start_pts"] = column<int64_t>(rows, [](const R& r) { return r.segment.start_pts; });
  d["end_pts"] = column<int64_t>(rows, [](const R& r) { return r.segment.end_pts; });
  d["time_base_num"] = column<int32_t>(rows, [](const R& r) { return r.segment.time_base.num; });
  d["time_base_den"] = column<int32_t>(rows, [](const R& r) { return r.segment.time_base.den; });
  d["start_seconds"] = column<double>(rows, [](const R& r) { return r.segment.timeline_start(); });
  d["end_seconds"] = column<double>(rows, [](const R& r) { return r.segment.timeline_end(); });
  d["bytes"] = column<int64_t>(rows, [](const R& r) { return r.bytes; });
  d["encode_seconds"] = column<double>(rows, [](const R& r) { return r.encode_seconds; });
  d["rank"] = column<int32_t>(rows, [](const R& r) { return r.rank; });
  d["host"] = text_column(rows, [](const R& r) { return r.host; });
  d["status"] = text_column(rows, [](const R& r) { return std::string(to_string(r.status)); });
  d["attempts"] = column<int32_t>(rows, [](const R& r) { return r.attempts; });
  d["entry"] = column<int32_t>(rows, [](const R& r) { return r.segment.entry; });
  d["entry_offset_us"] = column<int64_t>(rows, [](const R& r) { return r.segment.entry_offset_us; });
  return d;
}

py::dict keyframes(const ManifestObj& m) {
  using K = plan::Keyframe;
  const auto& index = m.data.index;
  py::dict d;
  d["pts"] = column<int64_t>(index.keyframes, [](const K& k) { return k.pts; });
  d["seconds"] = column<double>(index.keyframes, [&](const K& k) { return index.seconds(k.pts); });
  d["frames"] = column<int64_t>(index.keyframes, [](const K& k) { return k.frames; });
  d["byte_pos"] = column<int64_t>(index.keyframes, [](const K& k) { return k.byte_pos; });
  return d;
}

py::dict attrs(const ManifestObj& m) {
  const auto& i = m.data.info;
  py::dict d;
  d["schema"] = "gopcast.manifest/1";  // the only schema read() accepts
  d["job_key"] = i.job_key;
  d["input"] = i.input;
  d["input_bytes"] = i.input_bytes;
  d["templates"] = i.templates;
  d["outputs"] = i.outputs;
  d["gopcast_version"] = i.gopcast_version;
  d["segment_seconds"] = i.segment_seconds;
  d["grid_seconds"] = i.grid_seconds;
  d["workers"] = i.workers;
  d["engine"] = i.engine;
  d["state"] = i.state;
  d["resumed_segments"] = i.resumed_segments;
  return d;
}

}  // namespace

void register_manifest(py::module_& m) {
  py::class_<ManifestObj>(m, "Manifest", R"doc(
The HDF5 segment manifest of a segment-parallel run (docs/manifest.md), read without h5py.

    m = gopcast.Manifest(result.manifest)
    df = pandas.DataFrame(m.segments)        # one row per segment
    m.keyframes["seconds"], m.attrs["state"], m.phases["encode"]

The columns are numpy arrays named and typed as the file's fields; host and status are
numpy str arrays (h5py gives them as bytes).)doc")
      .def(py::init([](PathArg path) {
             ManifestObj obj;
             obj.path = to_path(path, true);
             std::optional<manifest::Manifest> read;
             {
               py::gil_scoped_release released;
               read = manifest::read(obj.path);
             }
             if (!read) fail(ErrorCode::ResourceNotFound, "{}: no such file", obj.path.string());
             obj.data = std::move(*read);
             return obj;
           }),
           py::arg("path"),
           "Reads a manifest. Raises ResourceNotFound for a missing file and ResourceContentBad for a\n"
           "file that is not a gopcast manifest.")
      .def_readonly("path", &ManifestObj::path)
      .def_property_readonly("segments", &segments,
                             "One entry per /segments field (index, first_frame, last_frame, frames, start_pts, end_pts,\n"
                             "time_base_num, time_base_den, start_seconds, end_seconds, bytes, encode_seconds, rank,\n"
                             "host, status, attempts, entry, entry_offset_us), each a numpy array with one value per segment.")
      .def_property_readonly("keyframes", &keyframes,
                             "The keyframe index (/keyframes): pts, seconds, frames, byte_pos as numpy arrays.")
      .def_property_readonly(
          "time_base", [](const ManifestObj& o) { return std::make_pair(o.data.index.time_base.num, o.data.index.time_base.den); },
          "The keyframe index's time base (num, den): one pts tick is num/den seconds.")
      .def_property_readonly(
          "end_pts", [](const ManifestObj& o) { return o.data.index.end_pts; }, "End of the last frame shown, same time base.")
      .def_property_readonly(
          "total_frames", [](const ManifestObj& o) { return o.data.index.total_frames; }, "Frames shown in the whole stream.")
      .def_property_readonly("attrs", &attrs, "The job's attributes (the file's root attributes).")
      .def_property_readonly(
          "phases", [](const ManifestObj& o) { return o.data.info.phases; }, "Wall-clock seconds per phase (index, encode, ...).")
      .def_property_readonly(
          "state", [](const ManifestObj& o) { return o.data.info.state; }, "running, done, failed or cancelled.")
      .def("__len__", [](const ManifestObj& o) { return o.data.segments.size(); }, "The number of segments.")
      .def("__repr__", [](const ManifestObj& o) {
        return fmt::format("<gopcast.Manifest {} ({} segments, {})>", o.path.string(), o.data.segments.size(), o.data.info.state);
      });
}

}  // namespace gopcast::python
