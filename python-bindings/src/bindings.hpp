#pragma once
// Shared pieces of the gopcast Python module (gopcast._gopcast). The module binds the
// public library API only: no libav, HDF5 or MPI type crosses into Python.
#include <pybind11/pybind11.h>

#include <atomic>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

namespace gopcast::python {

namespace py = pybind11;

// A Python argument taken as it is, with the type help() shows for it (pybind11 would
// print "handle"). The functions check and convert it themselves.
template <typename Hint>
struct Arg {
  py::object obj;
  operator py::handle() const { return obj; }
  bool is_none() const { return obj.is_none(); }
};
#define GOPCAST_HINT(NAME, TEXT) \
  struct NAME##Hint {            \
    static constexpr auto name = py::detail::const_name(TEXT); \
  };                             \
  using NAME = Arg<NAME##Hint>;
GOPCAST_HINT(PathArg, "str | os.PathLike")
GOPCAST_HINT(OptPathArg, "str | os.PathLike | None")
GOPCAST_HINT(JobArg, "Job | str | os.PathLike")
GOPCAST_HINT(TemplateArg, "str | os.PathLike | Template | None")
GOPCAST_HINT(OverridesArg, "dict | list[str] | None")
GOPCAST_HINT(SettingsArg, "dict")
GOPCAST_HINT(MappingArg, "dict | None")
GOPCAST_HINT(OutputPathArg, "str | os.PathLike | Output")
GOPCAST_HINT(ValueArg, "bool | int | float | str | list | dict | None")
GOPCAST_HINT(TimesArg, "float | Sequence[float]")
GOPCAST_HINT(ProgressArg, "Callable[[Progress], None] | None")
GOPCAST_HINT(OutputArg, "int | Output")
GOPCAST_HINT(OutputsArg, "Sequence[Output | str | os.PathLike]")
#undef GOPCAST_HINT

// --- registration (one per source file) ---
void register_errors(py::module_& m);
void register_media(py::module_& m);
void register_spec(py::module_& m);
void register_run(py::module_& m);
void register_jobs(py::module_& m);
void register_manifest(py::module_& m);

// --- conversions (convert.cpp) ---
// JSON documents (probe, results, job records) become plain dicts, lists and scalars.
py::object to_python(const nlohmann::json& j);
// TOML values and tables become the same; a table becomes a nested dict.
py::object to_python(const toml::node& node);
// A Python value as a TOML node: bool, int, float, str, os.PathLike, lists/tuples and
// dicts (nested tables). Raises InvalidKey naming `key` for anything else.
std::unique_ptr<toml::node> to_toml(py::handle value, const std::string& key);
// "a.b.c" -> the node at that dotted key of `table`, or nullptr.
const toml::node* find_dotted(const toml::table& table, const std::string& key);
// Sets (value) or removes (None) a dotted key, creating the tables on the way.
void set_dotted(toml::table& table, const std::string& key, py::handle value);
// Sets every entry of a mapping: keys may be dotted ("video.crf"), and nested mappings
// ({"video": {"crf": 20}}) merge key by key into the tables already there.
void merge_settings(toml::table& table, py::handle mapping, const std::string& prefix = {});
// Every leaf of `table` as a dotted key, in order.
std::vector<std::string> dotted_leaves(const toml::table& table, const std::string& prefix = {});
// A TOML table as text.
std::string toml_text(const toml::table& table);
// Overrides for every output, as `--set key=value` strings: from a mapping
// {"video.crf": 20} (or nested {"video": {"crf": 20}}) or a list of "key=value" strings.
std::vector<std::string> set_strings(py::handle overrides);
// str or os.PathLike -> path (absolute when `absolute`).
std::filesystem::path to_path(py::handle value, bool absolute = false);

// A docstring made at run time (from the library's defaults), kept for the module's life.
const char* doc_string(std::string text);

// --- running long work (interrupt.cpp) ---
// Runs `work` on a helper thread with the GIL released while this (the calling) thread
// waits and, every 50 ms, lets Python run its signal handlers. A KeyboardInterrupt (or
// any exception a handler raises) sets `stop`, waits for the work to end (the library
// stops cleanly when `stop` is set) and is raised here. Errors thrown by the work are
// rethrown here. With `block_signals`, signals are blocked on the helper thread and the
// threads it starts, so they reach the Python thread (not for work that starts programs).
void run_interruptible(const std::function<void()>& work, std::atomic<bool>& stop, bool block_signals = true);

// A Python error raised inside a callback the library called from a worker thread:
// kept so it can be raised on the calling thread once the work has stopped.
struct CallbackError {
  std::optional<py::error_already_set> error;
  void rethrow_if_set() {
    if (error) {
      py::error_already_set e = std::move(*error);
      error.reset();
      throw e;
    }
  }
};

// --- errors (errors.cpp) ---
// The gopcast.Error subclass for a code name ("InvalidParameter.OutOfRange").
py::object error_class(const std::string& code_name);
// Raises gopcast.Error (the code's subclass) from a code name and message, as the CLI's
// --json error objects carry them.
[[noreturn]] void raise_error(const std::string& code_name, const std::string& message);

}  // namespace gopcast::python

namespace pybind11::detail {
template <typename Hint>
struct type_caster<gopcast::python::Arg<Hint>> {
  PYBIND11_TYPE_CASTER(gopcast::python::Arg<Hint>, Hint::name);
  bool load(handle src, bool) {
    value.obj = reinterpret_borrow<object>(src);
    return true;
  }
};
}  // namespace pybind11::detail
