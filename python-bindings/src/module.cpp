// The compiled part of the gopcast Python package (gopcast._gopcast); gopcast/__init__.py
// re-exports it.
#include "av/check.hpp"
#include "bindings.hpp"
#include "core/log.hpp"

PYBIND11_MODULE(_gopcast, m) {
  using namespace gopcast::python;
  m.doc() = "gopcast: media info, templates, jobs, local runs, Slurm pipelines, manifests and snapshots.";
  m.attr("__version__") = GOPCAST_VERSION;
  // Warnings only, as the CLI without -v: a notebook should not fill with libav's log.
  gopcast::log::set_level(gopcast::log::Level::Warn);
  gopcast::av::configure_logging();
  m.def(
      "set_log_level",
      [](const std::string& level) {
        using gopcast::log::Level;
        if (auto value = gopcast::parse_enum<Level>(level)) return gopcast::log::set_level(*value);
        gopcast::fail(gopcast::ErrorCode::OutOfRange, "log level: \"{}\" is not one of {}", level,
                      enum_names(Level{}).list());
      },
      pybind11::arg("level"),
      "How much gopcast (and libav) writes to stderr: \"debug\", \"info\", \"warn\" (default),\n"
      "\"error\" or \"quiet\".");
  // Classes and the signatures help() shows name them gopcast.X, where users find them
  // (the package re-exports everything), not gopcast._gopcast.X.
  pybind11::object real_name = m.attr("__name__");
  m.attr("__name__") = "gopcast";
  register_errors(m);
  register_media(m);
  register_spec(m);
  register_run(m);
  register_jobs(m);
  register_manifest(m);
  m.attr("__name__") = real_name;
}
