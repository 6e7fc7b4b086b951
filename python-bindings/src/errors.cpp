// The gopcast.Error hierarchy: one class per error code, grouped by family
// (InvalidParameter, InternalError), each also deriving from the built-in exception
// Python code would catch for it (ValueError, FileNotFoundError, LookupError...).
// Messages are the library's, word for word what the CLI prints after "CODE: ".
#include <map>

#include "bindings.hpp"
#include "app/report.hpp"
#include "core/error.hpp"

namespace gopcast::python {
namespace {

struct ClassSpec {
  ErrorCode code;
  const char* name;     // Python class name
  PyObject* builtin;    // extra built-in base, or nullptr
};

// Family classes come first: leaves name them as bases.
std::map<std::string, py::object>& classes() {
  static auto* m = new std::map<std::string, py::object>();  // lives as long as the interpreter
  return *m;
}
std::map<ErrorCode, std::string>& class_of_code() {
  static auto* m = new std::map<ErrorCode, std::string>();
  return *m;
}

py::object make_class(py::module_& m, const std::string& name, const py::tuple& bases, const std::string& doc) {
  const std::string qualified = "gopcast." + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc.c_str(), bases.ptr(), nullptr);
  if (!cls) throw py::error_already_set();
  py::object obj = py::reinterpret_steal<py::object>(cls);
  m.add_object(name.c_str(), obj);
  classes()[name] = obj;
  return obj;
}

void translate(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const Error& e) {
    py::object cls = classes()[class_of_code()[e.code()]];
    py::object instance = cls(e.what());
    instance.attr("code") = std::string(e.code_name());
    instance.attr("exit_status") = e.exit_status();
    instance.attr("message") = std::string(e.what());
    PyErr_SetObject(cls.ptr(), instance.ptr());
  } catch (const py::builtin_exception&) {
    throw;  // pybind11's own (TypeError, IndexError, StopIteration...): its translator's
  } catch (const py::error_already_set&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    // As the CLI does: anything else is an internal error, with its message.
    const auto& info = error_code_info(ErrorCode::Internal);
    py::object cls = classes()["InternalError"];
    py::object instance = cls(e.what());
    instance.attr("code") = std::string(info.name);
    instance.attr("exit_status") = info.exit_status;
    instance.attr("message") = std::string(e.what());
    PyErr_SetObject(cls.ptr(), instance.ptr());
  }
}

}  // namespace

py::object error_class(const std::string& code_name) {
  for (const auto& c : error_codes())
    if (c.name == code_name) return classes()[class_of_code()[c.code]];
  return classes()["Error"];
}

void raise_error(const std::string& code_name, const std::string& message) {
  for (const auto& c : error_codes())
    if (c.name == code_name) throw Error(c.code, message);
  throw Error(ErrorCode::Internal, message);
}

void register_errors(py::module_& m) {
  py::object error = make_class(m, "Error", py::make_tuple(py::handle(PyExc_Exception)),
                                "Base of every gopcast error.\n\n"
                                "Attributes:\n"
                                "    code: the stable error code, e.g. \"InvalidParameter.OutOfRange\"\n"
                                "    exit_status: the exit status the gopcast command gives for it\n"
                                "    message: the message (also str(error)), as the command prints it after the code");
  error.attr("code") = py::none();
  error.attr("exit_status") = py::none();
  error.attr("message") = py::none();
  py::object invalid = make_class(m, "InvalidParameter", py::make_tuple(error),
                                  "Bad input: a file, template, job or value the request cannot be carried out with.");

  const ClassSpec specs[] = {
      {ErrorCode::Internal, "InternalError", nullptr},
      {ErrorCode::Usage, "Usage", PyExc_ValueError},
      {ErrorCode::ResourceNotFound, "ResourceNotFound", PyExc_FileNotFoundError},
      {ErrorCode::ResourceContentBad, "ResourceContentBad", PyExc_ValueError},
      {ErrorCode::OutOfRange, "OutOfRange", PyExc_ValueError},
      {ErrorCode::TemplateNotFound, "TemplateNotFound", PyExc_LookupError},
      {ErrorCode::InvalidKey, "InvalidKey", PyExc_ValueError},
      {ErrorCode::SpecSyntax, "SpecSyntax", PyExc_ValueError},
      {ErrorCode::UnsupportedCodec, "UnsupportedCodec", PyExc_ValueError},
      {ErrorCode::Incompatible, "Incompatible", PyExc_ValueError},
      {ErrorCode::StreamNotFound, "StreamNotFound", PyExc_LookupError},
      {ErrorCode::OutputNotWritable, "OutputNotWritable", PyExc_OSError},
      {ErrorCode::PipelineNotFound, "PipelineNotFound", PyExc_LookupError},
      {ErrorCode::JobNotFound, "JobNotFound", PyExc_LookupError},
      {ErrorCode::TranscodeFailed, "TranscodeFailed", nullptr},
      {ErrorCode::SchedulerFailed, "SchedulerFailed", nullptr},
      {ErrorCode::SchedulerLimit, "SchedulerLimit", nullptr},
      {ErrorCode::OutputLocked, "OutputLocked", nullptr},
      {ErrorCode::WaitTimeout, "WaitTimeout", PyExc_TimeoutError},
      {ErrorCode::Cancelled, "Cancelled", nullptr},
  };
  for (const auto& s : specs) {
    const auto& info = error_code_info(s.code);
    const std::string code_name(info.name);
    // The family is the code's first part; InternalError is a family and a code.
    py::object family = code_name.starts_with("InvalidParameter.") ? invalid
                        : code_name.starts_with("InternalError.")  ? classes()["InternalError"]
                                                                   : error;
    py::tuple bases = s.builtin ? py::make_tuple(family, py::handle(s.builtin)) : py::make_tuple(family);
    std::string doc = fmt::format("{} (exit status {}): {}.", code_name, info.exit_status, info.meaning);
    py::object cls = make_class(m, s.name, bases, doc);
    cls.attr("code") = code_name;
    cls.attr("exit_status") = info.exit_status;
    class_of_code()[s.code] = s.name;
  }
  py::register_exception_translator(&translate);

  m.def(
      "error_codes",
      [] {
        py::list out = to_python(app::error_codes_json());
        for (size_t i = 0; i < error_codes().size(); ++i)
          out[i]["exception"] = classes()[class_of_code()[error_codes()[i].code]];
        return out;
      },
      "The error codes in documentation order, as `gopcast errors --json` lists them, each with\n"
      "the gopcast exception class that carries it.");
}

}  // namespace gopcast::python
