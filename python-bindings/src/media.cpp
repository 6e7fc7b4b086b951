// gopcast.probe, gopcast.snapshot and gopcast.cover.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "av/probe.hpp"
#include "core/error.hpp"
#include "bindings.hpp"
#include "ops/cover.hpp"
#include "ops/stills.hpp"
#include "ops/snapshot.hpp"

namespace gopcast::python {
namespace {

// The frame's pixels as an (H, W, 3) uint8 array that owns them (no copy).
py::array_t<uint8_t> frame_array(ops::RgbFrame& frame) {
  auto* pixels = new std::vector<uint8_t>(std::move(frame.pixels));
  py::capsule owner(pixels, [](void* p) { delete static_cast<std::vector<uint8_t>*>(p); });
  const auto h = static_cast<py::ssize_t>(frame.height), w = static_cast<py::ssize_t>(frame.width);
  return py::array_t<uint8_t>({h, w, py::ssize_t{3}}, {w * 3, py::ssize_t{3}, py::ssize_t{1}}, pixels->data(), owner);
}

py::object snapshot(PathArg path, TimesArg times, std::optional<int> width, std::optional<int> height,
                    const std::string& video_stream, bool return_times) {
  const bool scalar = py::isinstance<py::float_>(times) || py::isinstance<py::int_>(times) || !py::hasattr(times.obj, "__iter__");
  std::vector<double> when;
  if (scalar) when.push_back(times.obj.cast<double>());
  else
    for (auto t : times.obj) when.push_back(t.cast<double>());
  ops::SnapshotOptions options;
  options.size = {width, height};
  options.video_stream = video_stream;
  std::atomic<bool> stop{false};
  options.cancel = &stop;
  const auto file = to_path(path);
  std::vector<ops::RgbFrame> frames;
  run_interruptible([&] { frames = ops::grab_frames(file, when, options); }, stop);

  py::list arrays, shown;
  for (auto& f : frames) {
    shown.append(f.seconds());
    arrays.append(frame_array(f));
  }
  py::object pictures = scalar ? arrays[0] : py::object(arrays);
  if (!return_times) return pictures;
  return py::make_tuple(pictures, scalar ? shown[0] : py::object(shown));
}

py::tuple cover(PathArg path, int candidates, std::optional<int> width, std::optional<int> height, const std::string& video_stream) {
  if (candidates < 1 || candidates > 1000)
    fail<SpecError>(ErrorCode::OutOfRange, "candidates: {} is out of range 1..1000", candidates);
  ops::CoverOptions options;
  options.candidates = candidates;
  options.size = {width, height};
  options.video_stream = video_stream;
  std::atomic<bool> stop{false};
  options.cancel = &stop;
  const auto file = to_path(path);
  ops::CoverPick pick;
  run_interruptible([&] { pick = ops::pick_cover(file, options); }, stop);
  py::dict info;
  info["time"] = pick.frame.seconds();
  info["score"] = to_python(ops::to_json(pick.score));
  py::list all;
  for (const auto& c : pick.candidates) {
    py::dict d;
    d["time"] = c.time;
    d["score"] = to_python(ops::to_json(c.score));
    all.append(d);
  }
  info["candidates"] = all;
  return py::make_tuple(frame_array(pick.frame), info);
}

}  // namespace

void register_media(py::module_& m) {
  m.def("cover", &cover, py::arg("path"), py::arg("candidates") = 24, py::arg("width") = py::none(),
        py::arg("height") = py::none(), py::arg("video_stream") = "",
        "The best cover frame, as `gopcast cover` picks it (docs/snapshots.md): `candidates`\n"
        "frames spread over the middle 90% of the input are scored (exposure, contrast,\n"
        "sharpness, detail, colour; frames in a cross-fade or fade score low) and the best wins.\n\n"
        "Returns (picture, info): the picture as an (H, W, 3) uint8 RGB array (width/height as\n"
        "in snapshot), and a dict with its time (seconds), its score (components and measures,\n"
        "as `gopcast cover --json` prints them) and every\n"
        "candidate's time and score. Ctrl-C interrupts it.");
  m.def(
      "probe",
      [](PathArg path) {
        const auto file = to_path(path);
        nlohmann::json j;
        {
          py::gil_scoped_release released;
          j = to_json(probe(file));
        }
        return to_python(j);
      },
      py::arg("path"),
      "Media information of a file, as `gopcast probe --json` prints it (schema \"gopcast.probe/1\",\n"
      "docs/probe-json.md): a dict with the container's format, duration, size, bit_rate, start_time\n"
      "and tags, and a list of streams (codec, profile, size, frame rates, pixel format, colour,\n"
      "rotation, sample rate, channels, language...).\n\n"
      "Raises ResourceNotFound (a FileNotFoundError) for a missing file and ResourceContentBad\n"
      "(a ValueError) for one that is not readable media, with the command's messages.");

  m.def("snapshot", &snapshot, py::arg("path"), py::arg("times"), py::arg("width") = py::none(),
        py::arg("height") = py::none(), py::arg("video_stream") = "", py::arg("return_times") = false,
        "Decoded pictures of a video at the given times, as numpy uint8 arrays of shape\n"
        "(height, width, 3), RGB, without writing any file.\n\n"
        "times: seconds from the start of the file (as `ffmpeg -ss` counts them); a list gives a\n"
        "    list of pictures in the same order, a single number one picture.\n"
        "    Each picture is the first frame shown at or after its time (the last frame for a\n"
        "    time after it): exactly the frame `ffmpeg -ss T -i FILE -frames:v 1` writes.\n"
        "width, height: the picture size. Neither: the stored size (turned upright for rotated\n"
        "    video). One: the other follows the display aspect ratio. Both: exactly that size.\n"
        "video_stream: which video stream (\"0:v:1\"); default the best one.\n"
        "return_times: also return the presentation time (seconds) of each frame given,\n"
        "    as (pictures, times).\n\n"
        "Raises OutOfRange (a ValueError) for a time outside the video or a size outside\n"
        "1..16384, StreamNotFound for a file without video. Ctrl-C interrupts it.");
}

}  // namespace gopcast::python
