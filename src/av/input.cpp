#include "av/input.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <optional>
#include <system_error>

#include "av/check.hpp"
#include "core/fd.hpp"

extern "C" {
#include <libavutil/avutil.h>
}

namespace fs = std::filesystem;

namespace gopcast::av {

namespace {
std::mutex g_policy_mutex;
InputPolicy g_policy;

// What a file that is not a regular file is, in words; nothing for a regular file.
std::optional<std::string> special_kind(const fs::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return std::nullopt;
  if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  return "not a regular file";
}

bool is_under(const fs::path& p, const fs::path& root) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *q != *r) return r != root.end() && r->empty();  // "dir/" ends in an empty element
  return true;
}

fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : c;
}
}  // namespace

void set_input_policy(InputPolicy policy) {
  std::lock_guard lock(g_policy_mutex);
  g_policy = std::move(policy);
}

const InputPolicy& input_policy() {
  std::lock_guard lock(g_policy_mutex);
  return g_policy;
}

// The opens libavformat makes on its own while reading an input (an HLS playlist's
// segments and keys): each is checked against the policy, and the first refusal is kept
// to be raised with its reason (libavformat would only say "cannot open", or skip a
// segment with a warning).
struct OpenGuard {
  fs::path input;               // the file the user named, as resolved
  std::vector<fs::path> roots;  // folders nested opens may read
  bool special_files = false;
  std::string refused;          // the first refusal, in words

  std::optional<std::string> refuse(std::string_view url) const {
    std::string_view rest = url;
    if (rest.starts_with("data:")) return std::nullopt;  // inline bytes: nothing is read
    if (rest.starts_with("crypto+")) rest.remove_prefix(7);
    else if (rest.starts_with("crypto:")) rest.remove_prefix(7);
    if (rest.starts_with("file://")) rest.remove_prefix(7);
    else if (rest.starts_with("file:")) rest.remove_prefix(5);
    const auto colon = rest.find(':'), slash = rest.find('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash))
      return fmt::format("\"{}\" uses a protocol other than a local file", url);
    const fs::path p = resolved(fs::path(std::string(rest)));
    if (p == input) return std::nullopt;
    if (!special_files) {
      if (auto kind = special_kind(p)) return fmt::format("\"{}\" is {}, not a regular file", url, *kind);
    }
    for (const auto& r : roots)
      if (is_under(p, r)) return std::nullopt;
    return fmt::format("\"{}\" is outside the playlist's folder {} (a job allows more folders with [input] hls_allow)", url,
                       roots.empty() ? std::string("?") : roots.front().string());
  }
};

namespace {
int guarded_open(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options) {
  auto* guard = static_cast<OpenGuard*>(s->opaque);
  if (guard) {
    if (auto why = guard->refuse(url)) {
      if (guard->refused.empty()) guard->refused = *why;
      return AVERROR(EPERM);
    }
  }
  // Only local protocols, whatever the demuxer passes on.
  av_dict_set(options, "protocol_whitelist", "file,crypto,data", 0);
  return avio_open2(pb, url, flags, &s->interrupt_callback, options);
}

// Waits (at most `seconds`) until a FIFO has a writer with data, so opening it cannot
// hang. The returned descriptor is a reader the caller keeps until libavformat has
// opened the FIFO itself, so the writer never finds it without one.
UniqueFd wait_for_writer(const fs::path& path, int seconds) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return fd;  // libavformat's open names the error
  pollfd p{fd.get(), POLLIN, 0};
  const int ready = ::poll(&p, 1, seconds * 1000);
  if (ready <= 0 || !(p.revents & POLLIN))
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: a FIFO with no data after {} s (nothing writes to it)", path.string(),
                     seconds);
  return fd;
}
}  // namespace

Input Input::open(const fs::path& path) {
  std::error_code ec;
  const std::string name = path.string();
  if (!fs::exists(path, ec)) fail<MediaError>(ErrorCode::ResourceNotFound, "{}: no such file", name);
  if (fs::is_directory(path, ec)) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: is a folder, not a media file", name);
  if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) == 0)
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: file is empty", name);
  const InputPolicy policy = input_policy();
  if (auto kind = special_kind(path)) {
    if (!policy.special_files)
      fail<MediaError>(ErrorCode::ResourceContentBad,
                       "{}: is {}, not a regular file; gopcast reads only regular files unless the job allows it "
                       "([input] special_files = true)",
                       name, *kind);
  }
  UniqueFd fifo_reader;
  if (special_kind(path) == std::optional<std::string>("a FIFO (named pipe)"))
    fifo_reader = wait_for_writer(path, policy.special_open_seconds);

  auto guard = std::make_shared<OpenGuard>();
  guard->input = resolved(path);
  guard->roots.push_back(guard->input.parent_path());
  for (const auto& r : policy.hls_allow) guard->roots.push_back(resolved(r));
  guard->special_files = policy.special_files;

  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) fail(ErrorCode::Internal, "{}: out of memory", name);
  raw->opaque = guard.get();
  raw->io_open = guarded_open;
  Dictionary opts;
  // Local HLS playlists name their segments by relative path; allow only local protocols.
  opts.set("protocol_whitelist", "file,crypto,data");
  // libavformat's own list plus .key, so AES-128 HLS (ours included) opens with its keys.
  opts.set("allowed_extensions",
           "3gp,aac,avi,ac3,eac3,flac,mkv,m3u8,m4a,m4s,m4v,mpg,mov,mp2,mp3,mp4,mpeg,mpegts,ogg,ogv,oga,ts,vob,wav,key");
  // MPEG-TS: read every program's table before deciding the streams, as ffprobe does.
  opts.set("scan_all_pmts", "1");
  int ret = avformat_open_input(&raw, name.c_str(), nullptr, opts.ptr());
  if (ret < 0) {
    if (!guard->refused.empty()) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: refused: {}", name, guard->refused);
    if (ret == AVERROR(ENOENT)) fail<MediaError>(ErrorCode::ResourceNotFound, "{}: no such file", name);
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: not a readable media file ({})", name, error_string(ret));
  }
  InputContextPtr ctx(raw);
  fifo_reader.reset();  // libavformat holds its own reader now
  ret = avformat_find_stream_info(ctx.get(), nullptr);
  if (!guard->refused.empty()) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: refused: {}", name, guard->refused);
  if (ret < 0) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: cannot read stream information ({})", name, error_string(ret));
  bool has_media = false;
  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    auto type = ctx->streams[i]->codecpar->codec_type;
    if (type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO) has_media = true;
  }
  if (!has_media) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: contains no audio or video stream", name);
  return Input(std::move(ctx), path, std::move(guard));
}

void Input::check_refused() const {
  if (guard_ && !guard_->refused.empty())
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: refused: {}", path_.string(), guard_->refused);
}

int Input::select(AVMediaType type, std::string_view selector, std::string_view key) const {
  const char letter = type == AVMEDIA_TYPE_VIDEO ? 'v' : 'a';
  if (selector.empty()) {
    int best = av_find_best_stream(ctx_.get(), type, -1, -1, nullptr, 0);
    if (best >= 0 && type == AVMEDIA_TYPE_VIDEO && (stream(best)->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      best = -1;  // cover art is not a video stream worth transcoding
      for (unsigned i = 0; i < ctx_->nb_streams; ++i)
        if (stream(i)->codecpar->codec_type == type && !(stream(i)->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
          best = static_cast<int>(i);
          break;
        }
    }
    return best < 0 ? -1 : best;
  }
  std::string_view rest = selector;
  if (rest.starts_with("0:")) rest.remove_prefix(2);
  bool typed = false;
  if (!rest.empty() && (rest[0] == 'v' || rest[0] == 'a')) {
    if (rest[0] != letter)
      fail<SpecError>(ErrorCode::StreamNotFound, "{}: selector \"{}\" does not name a{} stream", key, selector,
                      letter == 'v' ? " video" : "n audio");
    typed = true;
    rest.remove_prefix(1);
    if (rest.starts_with(':')) rest.remove_prefix(1);
    else if (!rest.empty()) rest = "x";  // force a parse error below
    if (rest.empty()) rest = "0";
  }
  int n = -1;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || ptr != rest.data() + rest.size() || n < 0)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: \"{}\" is not a stream selector (use \"0:{}:N\" or an index)", key, selector,
                    letter);
  int seen = 0;
  for (unsigned i = 0; i < ctx_->nb_streams; ++i) {
    if (!typed) {
      if (static_cast<int>(i) == n) {
        if (stream(i)->codecpar->codec_type != type)
          fail<SpecError>(ErrorCode::StreamNotFound, "{}: stream {} of {} is not a{} stream", key, n, path_.string(),
                          letter == 'v' ? " video" : "n audio");
        return n;
      }
    } else if (stream(i)->codecpar->codec_type == type && seen++ == n) {
      return static_cast<int>(i);
    }
  }
  fail<SpecError>(ErrorCode::StreamNotFound, "{}: {} has no stream \"{}\"", key, path_.string(), selector);
}

bool Input::read(AVPacket* packet) {
  int ret = av_read_frame(ctx_.get(), packet);
  fresh_ = false;
  // A playlist's later segment that the policy refused: never a silent gap.
  check_refused();
  if (ret == AVERROR_EOF) return false;
  if (ret < 0) {
    int64_t pos = ctx_->pb ? avio_tell(ctx_->pb) : -1;
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: truncated or corrupt input near byte {} ({})", path_.string(), pos,
                     error_string(ret));
  }
  const AVStream* st = ctx_->streams[packet->stream_index];
  int64_t ts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
  if (ts != AV_NOPTS_VALUE) {
    int64_t end = av_rescale_q(ts + packet->duration, st->time_base, AV_TIME_BASE_Q) - start_time();
    end_us_ = std::max(end_us_, end);
  }
  return true;
}

void Input::check_complete() const {
  // Only durations read from the container's own index are promises; estimates from
  // the bitrate are not.
  if (ctx_->duration == AV_NOPTS_VALUE || ctx_->duration <= 0 || ctx_->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
    return;
  const int64_t tolerance = std::max<int64_t>(AV_TIME_BASE, ctx_->duration / 50);
  if (end_us_ + tolerance < ctx_->duration)
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: truncated: media ends at {:.2f} s of the {:.2f} s its header states",
                     path_.string(), static_cast<double>(end_us_) / AV_TIME_BASE, static_cast<double>(ctx_->duration) / AV_TIME_BASE);
}

void Input::seek(int stream_index, int64_t ts) {
  check(avformat_seek_file(ctx_.get(), stream_index, INT64_MIN, ts, ts, 0), "avformat_seek_file", path_.string());
}

void Input::rewind() {
  // Reopening is the one exact way back for every demuxer: a byte seek to 0 makes
  // Matroska and ASF resync at the next cluster, and timestamp seeks are not exact in
  // MPEG-TS. Stream indices and parameters are those of the same file.
  Input fresh = open(path_);
  ctx_ = std::move(fresh.ctx_);
  guard_ = std::move(fresh.guard_);
  end_us_ = 0;
  fresh_ = true;
}

int64_t Input::start_time() const { return ctx_->start_time == AV_NOPTS_VALUE ? 0 : ctx_->start_time; }

double Input::duration_seconds() const {
  return ctx_->duration == AV_NOPTS_VALUE ? 0.0 : static_cast<double>(ctx_->duration) / AV_TIME_BASE;
}

Input& InputCache::get(const fs::path& path) {
  for (auto it = open_.begin(); it != open_.end(); ++it)
    if (it->path() == path) {
      open_.splice(open_.begin(), open_, it);
      return open_.front();
    }
  Input input = Input::open(path);
  ++opens_;
  if (open_.size() >= capacity_) open_.pop_back();
  open_.push_front(std::move(input));
  return open_.front();
}

}  // namespace gopcast::av
