#include "sched/codec.hpp"

#include <bit>
#include <cstring>

namespace gopcast::sched::codec {

namespace {

constexpr uint8_t kVersion = 1;

class Writer {
 public:
  Writer() { out_.push_back(static_cast<char>(kVersion)); }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double v) { u64(std::bit_cast<uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, const char* what) : in_(in), what_(what) {
    if (in_.empty() || static_cast<uint8_t>(in_[0]) != kVersion)
      fail(ErrorCode::Internal, "mpi: {} message: not of version {} (every rank must run the same gopcast)", what_, kVersion);
    pos_ = 1;
  }
  uint64_t u64() {
    need(8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  int i32() { return static_cast<int>(i64()); }
  double f64() { return std::bit_cast<double>(u64()); }
  std::string str() {
    const uint64_t n = u64();
    need(n);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void end() const {
    if (pos_ != in_.size()) fail(ErrorCode::Internal, "mpi: {} message: {} bytes too many", what_, in_.size() - pos_);
  }

 private:
  void need(uint64_t n) const {
    if (n > in_.size() - pos_) fail(ErrorCode::Internal, "mpi: {} message: too short", what_);
  }
  std::string_view in_;
  const char* what_;
  size_t pos_ = 0;
};

void put(Writer& w, const plan::Task& t) {
  w.i64(static_cast<int64_t>(t.kind));
  w.i64(t.attempt);
  const auto& g = t.segment;
  for (int64_t v : {int64_t{g.index}, g.first_frame, g.end_frame, g.start_pts, g.end_pts, int64_t{g.time_base.num},
                    int64_t{g.time_base.den}, int64_t{g.entry}, g.entry_offset_us, g.entry_end_pts})
    w.i64(v);
}

plan::Task get_task(Reader& r) {
  plan::Task t;
  const int64_t kind = r.i64();
  if (kind < 0 || kind > static_cast<int64_t>(plan::TaskKind::segment)) fail(ErrorCode::Internal, "mpi: task message: kind {}", kind);
  t.kind = static_cast<plan::TaskKind>(kind);
  t.attempt = r.i32();
  auto& g = t.segment;
  g.index = r.i32();
  g.first_frame = r.i64();
  g.end_frame = r.i64();
  g.start_pts = r.i64();
  g.end_pts = r.i64();
  g.time_base.num = r.i32();
  g.time_base.den = r.i32();
  g.entry = r.i32();
  g.entry_offset_us = r.i64();
  g.entry_end_pts = r.i64();
  return t;
}

}  // namespace

std::string encode(const plan::Task& task) {
  Writer w;
  put(w, task);
  return w.take();
}

plan::Task decode_task(std::string_view bytes) {
  Reader r(bytes, "task");
  plan::Task t = get_task(r);
  r.end();
  return t;
}

std::string encode(const plan::Task& task, const plan::TaskResult& result) {
  Writer w;
  put(w, task);
  w.i64(result.bytes);
  w.i64(result.frames);
  w.f64(result.seconds);
  return w.take();
}

std::pair<plan::Task, plan::TaskResult> decode_done(std::string_view bytes) {
  Reader r(bytes, "done");
  plan::Task t = get_task(r);
  plan::TaskResult res;
  res.bytes = r.i64();
  res.frames = r.i64();
  res.seconds = r.f64();
  r.end();
  return {t, res};
}

std::string encode(const plan::Task& task, const plan::TaskFailure& failure) {
  Writer w;
  put(w, task);
  w.i64(static_cast<int64_t>(failure.code));
  w.str(failure.message);
  return w.take();
}

std::pair<plan::Task, plan::TaskFailure> decode_failure(std::string_view bytes) {
  Reader r(bytes, "failure");
  plan::Task t = get_task(r);
  plan::TaskFailure f;
  const int64_t code = r.i64();
  // An unknown code from another build is still a failure, never a crash.
  f.code = error_code_info(static_cast<ErrorCode>(code)).code == static_cast<ErrorCode>(code) ? static_cast<ErrorCode>(code)
                                                                                              : ErrorCode::Internal;
  f.message = r.str();
  r.end();
  return {t, f};
}

std::string encode(const Ready& ready) {
  Writer w;
  w.i64(ready.pid);
  w.str(ready.host);
  return w.take();
}

Ready decode_ready(std::string_view bytes) {
  Reader r(bytes, "ready");
  Ready out;
  out.pid = r.i64();
  out.host = r.str();
  r.end();
  return out;
}

}  // namespace gopcast::sched::codec
