#include "manifest/manifest.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <random>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace gopcast::manifest {

namespace {

constexpr std::string_view kSchema = "gopcast.manifest/1";
constexpr size_t kHostBytes = 64;   // HOST_NAME_MAX on Linux
constexpr size_t kStatusBytes = 8;  // "running" plus padding

// ---------------------------------------------------------------------------
// Owning handles. Every hid_t this file creates is closed by the matching
// H5?close; close() hands back the status where closing can fail for real (the
// file, whose close flushes the metadata).

template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  herr_t close() { return id_ >= 0 ? Close(std::exchange(id_, H5I_INVALID_HID)) : 0; }

 private:
  void reset() {
    if (id_ >= 0) Close(std::exchange(id_, H5I_INVALID_HID));
  }
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;
using PropertyList = Handle<H5Pclose>;

// ---------------------------------------------------------------------------
// The checked-call helper: a negative HDF5 return becomes an Error saying
// "hdf5: operation: what (where)", `what` being the innermost entry of HDF5's
// error stack (the most specific reason, e.g. "file signature not found").
// read() and write() re-throw it under their own code and path.

herr_t innermost(unsigned n, const H5E_error2_t* e, void* out) {
  if (n == 0 && e && e->desc && *e->desc) {
    // Some descriptions (system errors) span lines; messages are one line.
    std::string& what = *static_cast<std::string*>(out);
    for (const char* c = e->desc; *c; ++c)
      if (*c != '\n') what.push_back(*c);
  }
  return 0;
}

std::string hdf5_reason() {
  std::string what;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &what);
  H5Eclear2(H5E_DEFAULT);
  return what.empty() ? "failed" : what;
}

template <typename T>
T check(T ret, std::string_view operation, std::string_view where) {
  if (ret >= 0) return ret;
  fail(ErrorCode::Internal, "hdf5: {}: {} ({})", operation, hdf5_reason(), where);
}

// A manifest that opens as HDF5 but is not shaped as write() shapes it.
[[noreturn]] void bad(std::string_view what) { fail(ErrorCode::ResourceContentBad, "{}", what); }

// HDF5 builds need not be thread-safe; one manifest call at a time process-wide.
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

// HDF5 prints its whole error stack to stderr by default; gopcast reports errors
// itself. Per thread in thread-safe builds, so set on every call.
void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// Object names inside error messages: "file" or "file, /object".
std::string at(const fs::path& file, std::string_view object = {}) {
  if (object.empty()) return file.string();
  return fmt::format("{}, {}", file.string(), object);
}

// No file locks: the manifest is never written in place (temporary + rename), and
// flock() fails on some cluster file systems where gopcast jobs run.
PropertyList file_access(std::string_view where) {
  PropertyList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate", where));
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
  check(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking", where);
#endif
  // Strong: H5Fclose closes anything still open, so the closed file is complete.
  check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "H5Pset_fclose_degree", where);
  return fapl;
}

// Variable-length UTF-8: h5py reads such attributes as Python str.
Datatype vlen_utf8(std::string_view where) {
  Datatype t(check(H5Tcopy(H5T_C_S1), "H5Tcopy", where));
  check(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size", where);
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset", where);
  return t;
}

// Fixed-length, null-padded ASCII: numpy reads such compound fields as 'S<n>' (bytes).
Datatype fixed_ascii(size_t bytes, std::string_view where) {
  Datatype t(check(H5Tcopy(H5T_C_S1), "H5Tcopy", where));
  check(H5Tset_size(t.get(), bytes), "H5Tset_size", where);
  check(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), "H5Tset_strpad", where);
  check(H5Tset_cset(t.get(), H5T_CSET_ASCII), "H5Tset_cset", where);
  return t;
}

// ---------------------------------------------------------------------------
// Compound rows. The memory layout is a C++ struct; the file layout is the same
// members packed in the documented order with little-endian standard types.

struct KeyframeRow {
  int64_t pts;
  double seconds;
  int64_t frames;
  int64_t byte_pos;
};

struct SegmentRow {
  int32_t index;
  int64_t first_frame;
  int64_t last_frame;
  int64_t frames;
  int64_t start_pts;
  int64_t end_pts;
  int32_t time_base_num;
  int32_t time_base_den;
  double start_seconds;
  double end_seconds;
  int64_t bytes;
  double encode_seconds;
  int32_t rank;
  char host[kHostBytes];
  char status[kStatusBytes];
  int32_t attempts;
  int32_t entry;
  int64_t entry_offset_us;
};

struct Member {
  const char* name;
  size_t offset;     // in the memory struct
  hid_t mem_type;
  hid_t file_type;
};

struct RowTypes {
  Datatype memory;
  Datatype file;
};

RowTypes compound(size_t struct_size, const std::vector<Member>& members, std::string_view where) {
  size_t file_size = 0;
  for (const auto& m : members) {
    const size_t size = H5Tget_size(m.file_type);
    if (size == 0) check(-1, "H5Tget_size", where);
    file_size += size;
  }
  RowTypes t{Datatype(check(H5Tcreate(H5T_COMPOUND, struct_size), "H5Tcreate", where)),
             Datatype(check(H5Tcreate(H5T_COMPOUND, file_size), "H5Tcreate", where))};
  size_t file_offset = 0;
  for (const auto& m : members) {
    check(H5Tinsert(t.memory.get(), m.name, m.offset, m.mem_type), "H5Tinsert", where);
    check(H5Tinsert(t.file.get(), m.name, file_offset, m.file_type), "H5Tinsert", where);
    file_offset += H5Tget_size(m.file_type);
  }
  return t;
}

RowTypes keyframe_types(std::string_view where) {
  return compound(sizeof(KeyframeRow),
                  {
                      {"pts", offsetof(KeyframeRow, pts), H5T_NATIVE_INT64, H5T_STD_I64LE},
                      {"seconds", offsetof(KeyframeRow, seconds), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE},
                      {"frames", offsetof(KeyframeRow, frames), H5T_NATIVE_INT64, H5T_STD_I64LE},
                      {"byte_pos", offsetof(KeyframeRow, byte_pos), H5T_NATIVE_INT64, H5T_STD_I64LE},
                  },
                  where);
}

// H5Tinsert copies a member's type, so the string types close when this returns.
RowTypes segment_types(std::string_view where) {
  Datatype host = fixed_ascii(kHostBytes, where);
  Datatype status = fixed_ascii(kStatusBytes, where);
  return compound(
      sizeof(SegmentRow),
      {
          {"index", offsetof(SegmentRow, index), H5T_NATIVE_INT32, H5T_STD_I32LE},
          {"first_frame", offsetof(SegmentRow, first_frame), H5T_NATIVE_INT64, H5T_STD_I64LE},
          {"last_frame", offsetof(SegmentRow, last_frame), H5T_NATIVE_INT64, H5T_STD_I64LE},
          {"frames", offsetof(SegmentRow, frames), H5T_NATIVE_INT64, H5T_STD_I64LE},
          {"start_pts", offsetof(SegmentRow, start_pts), H5T_NATIVE_INT64, H5T_STD_I64LE},
          {"end_pts", offsetof(SegmentRow, end_pts), H5T_NATIVE_INT64, H5T_STD_I64LE},
          {"time_base_num", offsetof(SegmentRow, time_base_num), H5T_NATIVE_INT32, H5T_STD_I32LE},
          {"time_base_den", offsetof(SegmentRow, time_base_den), H5T_NATIVE_INT32, H5T_STD_I32LE},
          {"start_seconds", offsetof(SegmentRow, start_seconds), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE},
          {"end_seconds", offsetof(SegmentRow, end_seconds), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE},
          {"bytes", offsetof(SegmentRow, bytes), H5T_NATIVE_INT64, H5T_STD_I64LE},
          {"encode_seconds", offsetof(SegmentRow, encode_seconds), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE},
          {"rank", offsetof(SegmentRow, rank), H5T_NATIVE_INT32, H5T_STD_I32LE},
          {"host", offsetof(SegmentRow, host), host.get(), host.get()},
          {"status", offsetof(SegmentRow, status), status.get(), status.get()},
          {"attempts", offsetof(SegmentRow, attempts), H5T_NATIVE_INT32, H5T_STD_I32LE},
          {"entry", offsetof(SegmentRow, entry), H5T_NATIVE_INT32, H5T_STD_I32LE},
          {"entry_offset_us", offsetof(SegmentRow, entry_offset_us), H5T_NATIVE_INT64, H5T_STD_I64LE},
      },
      where);
}

// Copies `s` into a null-padded field, cut at the field's size.
template <size_t N>
void put_fixed(char (&field)[N], std::string_view s) {
  std::memset(field, 0, N);
  std::memcpy(field, s.data(), std::min(N, s.size()));
}

template <size_t N>
std::string get_fixed(const char (&field)[N]) {
  const char* end = static_cast<const char*>(std::memchr(field, '\0', N));
  return std::string(field, end ? end : field + N);
}

// ---------------------------------------------------------------------------
// Writing.

class Writer {
 public:
  explicit Writer(fs::path file) : file_(std::move(file)) {}

  void write(const Manifest& m) {
    const std::string where = at(file_);
    // The file is the AtomicFile's own, created exclusively under a unique name.
    PropertyList fapl = file_access(where);
    File file(check(H5Fcreate(file_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "H5Fcreate", where));
    {
      const hid_t root = file.get();
      const ManifestInfo& info = m.info;
      write_string(root, "schema", kSchema, "/");
      write_string(root, "job_key", info.job_key, "/");
      write_string(root, "input", info.input, "/");
      write_scalar(root, "input_bytes", H5T_STD_I64LE, H5T_NATIVE_INT64, &info.input_bytes, "/");
      write_string(root, "templates", info.templates, "/");
      write_strings(root, "outputs", info.outputs, "/");
      write_string(root, "gopcast_version", info.gopcast_version, "/");
      write_scalar(root, "segment_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &info.segment_seconds, "/");
      write_scalar(root, "grid_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &info.grid_seconds, "/");
      const int32_t workers = info.workers;
      write_scalar(root, "workers", H5T_STD_I32LE, H5T_NATIVE_INT32, &workers, "/");
      write_string(root, "engine", info.engine, "/");
      write_string(root, "state", info.state, "/");
      const int32_t resumed = info.resumed_segments;
      write_scalar(root, "resumed_segments", H5T_STD_I32LE, H5T_NATIVE_INT32, &resumed, "/");

      Group phases(check(H5Gcreate2(root, "phases", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2",
                         at(file_, "/phases")));
      for (const auto& [name, seconds] : info.phases)
        write_scalar(phases.get(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &seconds, "/phases");

      write_keyframes(root, m.index);
      write_segments(root, m.segments);
    }
    // Closing flushes the metadata: its failure is a failed write.
    check(file.close(), "H5Fclose", where);
  }

 private:
  void write_attribute(hid_t obj, const std::string& name, hid_t file_type, hid_t space, hid_t mem_type,
                       const void* data, std::string_view object) {
    const std::string where = at(file_, fmt::format("{} attribute {}", object, name));
    Attribute a(check(H5Acreate2(obj, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2", where));
    if (data) check(H5Awrite(a.get(), mem_type, data), "H5Awrite", where);
  }

  void write_scalar(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, const void* value,
                    std::string_view object) {
    Dataspace space(check(H5Screate(H5S_SCALAR), "H5Screate", at(file_, object)));
    write_attribute(obj, name, file_type, space.get(), mem_type, value, object);
  }

  void write_string(hid_t obj, const std::string& name, std::string_view value, std::string_view object) {
    const std::string copy(value);  // null-terminated
    const char* ptr = copy.c_str();
    Datatype type = vlen_utf8(at(file_, object));
    Dataspace space(check(H5Screate(H5S_SCALAR), "H5Screate", at(file_, object)));
    write_attribute(obj, name, type.get(), space.get(), type.get(), &ptr, object);
  }

  void write_strings(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                     std::string_view object) {
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    Datatype type = vlen_utf8(at(file_, object));
    const hsize_t dims[1] = {values.size()};
    Dataspace space(check(H5Screate_simple(1, dims, nullptr), "H5Screate_simple", at(file_, object)));
    write_attribute(obj, name, type.get(), space.get(), type.get(), ptrs.empty() ? nullptr : ptrs.data(), object);
  }

  // A contiguous 1-D dataset of `n` rows (0 allowed: h5py reads it as shape (0,)).
  Dataset write_rows(hid_t root, const char* name, const RowTypes& types, size_t n, const void* rows) {
    const std::string where = at(file_, fmt::format("/{}", name));
    const hsize_t dims[1] = {n};
    Dataspace space(check(H5Screate_simple(1, dims, nullptr), "H5Screate_simple", where));
    Dataset d(check(H5Dcreate2(root, name, types.file.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    "H5Dcreate2", where));
    if (n > 0) check(H5Dwrite(d.get(), types.memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows), "H5Dwrite", where);
    return d;
  }

  void write_keyframes(hid_t root, const plan::KeyframeIndex& index) {
    std::vector<KeyframeRow> rows;
    rows.reserve(index.keyframes.size());
    for (const auto& k : index.keyframes) rows.push_back({k.pts, index.seconds(k.pts), k.frames, k.byte_pos});
    RowTypes types = keyframe_types(at(file_, "/keyframes"));
    Dataset d = write_rows(root, "keyframes", types, rows.size(), rows.data());
    const int32_t num = index.time_base.num, den = index.time_base.den;
    write_scalar(d.get(), "time_base_num", H5T_STD_I32LE, H5T_NATIVE_INT32, &num, "/keyframes");
    write_scalar(d.get(), "time_base_den", H5T_STD_I32LE, H5T_NATIVE_INT32, &den, "/keyframes");
    write_scalar(d.get(), "end_pts", H5T_STD_I64LE, H5T_NATIVE_INT64, &index.end_pts, "/keyframes");
    write_scalar(d.get(), "total_frames", H5T_STD_I64LE, H5T_NATIVE_INT64, &index.total_frames, "/keyframes");
  }

  void write_segments(hid_t root, const std::vector<SegmentRecord>& segments) {
    std::vector<SegmentRow> rows(segments.size());
    for (size_t i = 0; i < segments.size(); ++i) {
      const SegmentRecord& r = segments[i];
      const plan::Segment& s = r.segment;
      SegmentRow& row = rows[i];
      row.index = s.index;
      row.first_frame = s.first_frame;
      row.last_frame = s.end_frame - 1;
      row.frames = s.frames();
      row.start_pts = s.start_pts;
      row.end_pts = s.end_pts;
      row.time_base_num = s.time_base.num;
      row.time_base_den = s.time_base.den;
      row.start_seconds = s.timeline_start();
      row.end_seconds = s.timeline_end();
      row.entry = s.entry;
      row.entry_offset_us = s.entry_offset_us;
      row.bytes = r.bytes;
      row.encode_seconds = r.encode_seconds;
      row.rank = r.rank;
      put_fixed(row.host, r.host);
      put_fixed(row.status, to_string(r.status));
      row.attempts = r.attempts;
    }
    RowTypes types = segment_types(at(file_, "/segments"));
    write_rows(root, "segments", types, rows.size(), rows.data());
  }

  fs::path file_;
};

// ---------------------------------------------------------------------------
// Reading. Anything unexpected throws; read() turns it into ResourceContentBad.

class Reader {
 public:
  explicit Reader(fs::path file) : file_(std::move(file)) {}

  Manifest read() {
    const std::string where = at(file_);
    PropertyList fapl = file_access(where);
    File file(check(H5Fopen(file_.c_str(), H5F_ACC_RDONLY, fapl.get()), "H5Fopen", where));
    const hid_t root = file.get();

    if (check(H5Aexists(root, "schema"), "H5Aexists", at(file_, "/ attribute schema")) == 0)
      bad("no schema attribute");
    const std::string schema = read_string(root, "schema", "/");
    if (schema != kSchema) bad(fmt::format("schema is \"{}\", this version reads \"{}\"", schema, kSchema));

    Manifest m;
    ManifestInfo& info = m.info;
    info.job_key = read_string(root, "job_key", "/");
    info.input = read_string(root, "input", "/");
    read_scalar(root, "input_bytes", H5T_NATIVE_INT64, &info.input_bytes, "/");
    info.templates = read_string(root, "templates", "/");
    info.outputs = read_strings(root, "outputs", "/", false);
    info.gopcast_version = read_string(root, "gopcast_version", "/");
    read_scalar(root, "segment_seconds", H5T_NATIVE_DOUBLE, &info.segment_seconds, "/");
    read_scalar(root, "grid_seconds", H5T_NATIVE_DOUBLE, &info.grid_seconds, "/");
    int32_t workers = 0;
    read_scalar(root, "workers", H5T_NATIVE_INT32, &workers, "/");
    info.workers = workers;
    info.engine = read_string(root, "engine", "/");
    info.state = read_string(root, "state", "/");
    if (check(H5Aexists(root, "resumed_segments"), "H5Aexists", at(file_, "/ attribute resumed_segments")) > 0) {
      int32_t resumed = 0;  // older manifests have no such attribute: read as 0
      read_scalar(root, "resumed_segments", H5T_NATIVE_INT32, &resumed, "/");
      info.resumed_segments = resumed;
    }
    info.phases = read_phases(root);

    m.index = read_keyframes(root);
    m.segments = read_segments(root);
    return m;
  }

 private:
  Attribute open_attribute(hid_t obj, const std::string& name, std::string_view object) {
    const std::string where = at(file_, fmt::format("{} attribute {}", object, name));
    if (check(H5Aexists(obj, name.c_str()), "H5Aexists", where) == 0)
      bad(fmt::format("{} has no attribute {}", object, name));
    return Attribute(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "H5Aopen", where));
  }

  hssize_t element_count(hid_t attr, const std::string& where) {
    Dataspace space(check(H5Aget_space(attr), "H5Aget_space", where));
    return check(H5Sget_simple_extent_npoints(space.get()), "H5Sget_simple_extent_npoints", where);
  }

  void read_scalar(hid_t obj, const std::string& name, hid_t mem_type, void* out, std::string_view object) {
    const std::string where = at(file_, fmt::format("{} attribute {}", object, name));
    Attribute a = open_attribute(obj, name, object);
    if (element_count(a.get(), where) != 1) bad(fmt::format("{} attribute {} is not a single value", object, name));
    check(H5Aread(a.get(), mem_type, out), "H5Aread", where);
  }

  std::string read_string(hid_t obj, const std::string& name, std::string_view object) {
    std::vector<std::string> v = read_strings(obj, name, object, true);
    return v.front();
  }

  // Variable-length (as written) or fixed-length strings (as a tool may rewrite them).
  std::vector<std::string> read_strings(hid_t obj, const std::string& name, std::string_view object, bool scalar) {
    const std::string where = at(file_, fmt::format("{} attribute {}", object, name));
    Attribute a = open_attribute(obj, name, object);
    const hssize_t n = element_count(a.get(), where);
    if (scalar && n != 1) bad(fmt::format("{} attribute {} is not a single string", object, name));
    Datatype stored(check(H5Aget_type(a.get()), "H5Aget_type", where));
    if (check(H5Tget_class(stored.get()), "H5Tget_class", where) != H5T_STRING)
      bad(fmt::format("{} attribute {} is not a string", object, name));

    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(n));
    if (n == 0) return out;
    if (check(H5Tis_variable_str(stored.get()), "H5Tis_variable_str", where) > 0) {
      Datatype mem = vlen_utf8(where);
      std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
      check(H5Aread(a.get(), mem.get(), ptrs.data()), "H5Aread", where);
      // HDF5 allocated each string; freed whatever happens below.
      struct Free {
        std::vector<char*>& p;
        ~Free() {
          for (char* s : p) H5free_memory(s);
        }
      } free_all{ptrs};
      for (char* s : ptrs) out.emplace_back(s ? s : "");
    } else {
      const size_t size = H5Tget_size(stored.get());
      if (size == 0) check(-1, "H5Tget_size", where);
      Datatype mem(check(H5Tcopy(H5T_C_S1), "H5Tcopy", where));
      check(H5Tset_size(mem.get(), size), "H5Tset_size", where);
      check(H5Tset_strpad(mem.get(), H5T_STR_NULLPAD), "H5Tset_strpad", where);
      std::string buffer(size * static_cast<size_t>(n), '\0');
      check(H5Aread(a.get(), mem.get(), buffer.data()), "H5Aread", where);
      for (hssize_t i = 0; i < n; ++i) {
        std::string s = buffer.substr(static_cast<size_t>(i) * size, size);
        out.push_back(s.substr(0, s.find('\0')));
      }
    }
    return out;
  }

  std::map<std::string, double> read_phases(hid_t root) {
    const std::string where = at(file_, "/phases");
    if (check(H5Lexists(root, "phases", H5P_DEFAULT), "H5Lexists", where) == 0) bad("no /phases group");
    Group g(check(H5Gopen2(root, "phases", H5P_DEFAULT), "H5Gopen2", where));
    std::vector<std::string> names;
    auto collect = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
      static_cast<std::vector<std::string>*>(out)->emplace_back(name);
      return 0;
    };
    hsize_t next = 0;
    check(H5Aiterate2(g.get(), H5_INDEX_NAME, H5_ITER_INC, &next, collect, &names), "H5Aiterate2", where);
    std::map<std::string, double> phases;
    for (const auto& name : names) read_scalar(g.get(), name, H5T_NATIVE_DOUBLE, &phases[name], "/phases");
    return phases;
  }

  // Opens a 1-D compound dataset and checks it has every member this reader needs
  // (HDF5 would silently leave a missing member untouched). Returns the row count.
  Dataset open_rows(hid_t root, const char* name, const RowTypes& types, size_t& rows) {
    const std::string object = fmt::format("/{}", name);
    const std::string where = at(file_, object);
    if (check(H5Lexists(root, name, H5P_DEFAULT), "H5Lexists", where) == 0) bad(fmt::format("no {} dataset", object));
    Dataset d(check(H5Dopen2(root, name, H5P_DEFAULT), "H5Dopen2", where));
    Datatype stored(check(H5Dget_type(d.get()), "H5Dget_type", where));
    if (check(H5Tget_class(stored.get()), "H5Tget_class", where) != H5T_COMPOUND)
      bad(fmt::format("{} is not a table of rows", object));
    const int members = check(H5Tget_nmembers(types.memory.get()), "H5Tget_nmembers", where);
    for (int i = 0; i < members; ++i) {
      char* member = H5Tget_member_name(types.memory.get(), static_cast<unsigned>(i));
      if (!member) check(-1, "H5Tget_member_name", where);
      const std::string field(member);
      H5free_memory(member);
      if (H5Tget_member_index(stored.get(), field.c_str()) < 0) {
        H5Eclear2(H5E_DEFAULT);
        bad(fmt::format("{} has no field {}", object, field));
      }
    }
    Dataspace space(check(H5Dget_space(d.get()), "H5Dget_space", where));
    if (check(H5Sget_simple_extent_ndims(space.get()), "H5Sget_simple_extent_ndims", where) != 1)
      bad(fmt::format("{} is not one-dimensional", object));
    rows = static_cast<size_t>(check(H5Sget_simple_extent_npoints(space.get()), "H5Sget_simple_extent_npoints", where));
    return d;
  }

  plan::KeyframeIndex read_keyframes(hid_t root) {
    const std::string where = at(file_, "/keyframes");
    RowTypes types = keyframe_types(where);
    size_t n = 0;
    Dataset d = open_rows(root, "keyframes", types, n);
    std::vector<KeyframeRow> rows(n);
    if (n > 0) check(H5Dread(d.get(), types.memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), "H5Dread", where);

    plan::KeyframeIndex index;
    int32_t num = 0, den = 0;
    read_scalar(d.get(), "time_base_num", H5T_NATIVE_INT32, &num, "/keyframes");
    read_scalar(d.get(), "time_base_den", H5T_NATIVE_INT32, &den, "/keyframes");
    index.time_base = {num, den};
    read_scalar(d.get(), "end_pts", H5T_NATIVE_INT64, &index.end_pts, "/keyframes");
    read_scalar(d.get(), "total_frames", H5T_NATIVE_INT64, &index.total_frames, "/keyframes");
    index.keyframes.reserve(n);
    for (const auto& r : rows) index.keyframes.push_back({r.pts, r.frames, r.byte_pos});
    return index;
  }

  std::vector<SegmentRecord> read_segments(hid_t root) {
    const std::string where = at(file_, "/segments");
    RowTypes types = segment_types(where);
    size_t n = 0;
    Dataset d = open_rows(root, "segments", types, n);
    std::vector<SegmentRow> rows(n);
    if (n > 0) check(H5Dread(d.get(), types.memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), "H5Dread", where);

    std::vector<SegmentRecord> out;
    out.reserve(n);
    for (const SegmentRow& row : rows) {
      SegmentRecord r;
      r.segment.index = row.index;
      r.segment.first_frame = row.first_frame;
      r.segment.end_frame = row.last_frame + 1;
      r.segment.start_pts = row.start_pts;
      r.segment.end_pts = row.end_pts;
      r.segment.time_base = {row.time_base_num, row.time_base_den};
      r.bytes = row.bytes;
      r.encode_seconds = row.encode_seconds;
      r.rank = row.rank;
      r.host = get_fixed(row.host);
      r.status = parse_status(get_fixed(row.status), row.index);
      r.attempts = row.attempts;
      r.segment.entry = row.entry;
      r.segment.entry_offset_us = row.entry_offset_us;
      out.push_back(std::move(r));
    }
    return out;
  }

  static SegmentStatus parse_status(const std::string& s, int index) {
    if (auto st = parse_enum<SegmentStatus>(s)) return *st;
    bad(fmt::format("segment {} has unknown status \"{}\"", index, s));
  }

  fs::path file_;
};

}  // namespace

const EnumNames<SegmentStatus>& enum_names(SegmentStatus) {
  static const EnumNames<SegmentStatus> names{{SegmentStatus::pending, "pending"},
                                              {SegmentStatus::running, "running"},
                                              {SegmentStatus::done, "done"},
                                              {SegmentStatus::failed, "failed"}};
  return names;
}

void write(const fs::path& path, const Manifest& manifest) {
  std::lock_guard lock(hdf5_mutex());
  silence_hdf5();
  const fs::path folder = path.parent_path();
  std::error_code ec;
  if (!folder.empty() && !fs::is_directory(folder, ec))
    fail(ErrorCode::OutputNotWritable, "{}: cannot write manifest: folder {} does not exist", path.string(),
         folder.string());
  try {
    files::AtomicFile file(path);
    Writer(file.temp_path()).write(manifest);
    file.commit();
  } catch (const Error& e) {
    fail(ErrorCode::OutputNotWritable, "{}: cannot write manifest: {}", path.string(), e.what());
  }
}

std::optional<Manifest> read(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return std::nullopt;
  if (fs::is_directory(st)) fail(ErrorCode::ResourceContentBad, "{}: not a gopcast manifest (a folder)", path.string());
  std::lock_guard lock(hdf5_mutex());
  silence_hdf5();
  try {
    return Reader(path).read();
  } catch (const Error& e) {
    fail(ErrorCode::ResourceContentBad, "{}: not a gopcast manifest ({})", path.string(), e.what());
  }
}

Log::Log(fs::path path, ManifestInfo info, plan::KeyframeIndex index) : path_(std::move(path)) {
  manifest_.info = std::move(info);
  manifest_.index = std::move(index);
}

std::map<std::string, double> phases(const RunTimes& t) {
  std::map<std::string, double> p;
  auto span = [&](const char* name, double from, double to) {
    if (from > 0 && to > 0) p[name] = std::max(0.0, to - from);
  };
  span("index", t.start, t.indexed);
  span("encode", t.indexed, t.encoded);
  span("gather", t.encoded, t.gathered);
  span("mux", std::max(t.encoded, t.gathered), t.muxed);
  return p;
}

void Log::write(const std::vector<SegmentRecord>& rows, const std::string& state, const std::map<std::string, double>& phases,
                bool force) {
  auto seconds = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
  const double now = seconds();
  if (!force && now - last_ < 1.0) {
    dirty_ = true;
    return;
  }
  last_ = now;
  dirty_ = false;
  manifest_.info.state = state;
  manifest_.info.phases = phases;
  manifest_.segments = rows;
  manifest::write(path_, manifest_);
  ++writes_;
  write_seconds_ += seconds() - now;
}

}  // namespace gopcast::manifest
