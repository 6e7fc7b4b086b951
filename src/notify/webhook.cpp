#include "notify/webhook.hpp"

#include <curl/curl.h>
#include <fmt/chrono.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace gopcast::notify {

namespace {

using Clock = std::chrono::steady_clock;

// How often a transfer or a backoff wait looks at the stop flag.
constexpr std::chrono::milliseconds kStopPoll{50};
constexpr auto kDestructorDeadline = std::chrono::seconds(2);

// ---------------------------------------------------------------------------
// Owning handles over libcurl objects.

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlFree {
  void operator()(char* s) const { curl_free(s); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;
using CurlString = std::unique_ptr<char, CurlFree>;

// An easy handle attached to a multi handle for one attempt; detaching restarts it.
class Attached {
 public:
  Attached(CURLM* multi, CURL* easy) : multi_(multi), easy_(easy), code_(curl_multi_add_handle(multi, easy)) {}
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;
  ~Attached() {
    if (code_ == CURLM_OK) curl_multi_remove_handle(multi_, easy_);
  }
  CURLMcode code() const { return code_; }

 private:
  CURLM* multi_;
  CURL* easy_;
  CURLMcode code_;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// curl_global_init must run once per process before any thread uses curl; it is
// never undone because other threads may still be delivering at exit.
CURLcode global_init() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

// ---------------------------------------------------------------------------
// URLs as they appear in messages: one line, and never a password.

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool has_control(std::string_view s) { return std::any_of(s.begin(), s.end(), is_control); }

std::string one_line(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (is_control(c))
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(static_cast<char>(c));
  }
  return out;
}

std::string shown_url(std::string_view url) {
  std::string s(url);
  const size_t scheme_end = s.find("://");
  if (scheme_end != std::string::npos) {
    const size_t host_begin = scheme_end + 3;
    const size_t authority_end = std::min(s.find_first_of("/?#", host_begin), s.size());
    const size_t at = s.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    if (at != std::string::npos && at >= host_begin) {
      const size_t colon = s.find(':', host_begin);
      if (colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  return one_line(s);
}


// ---------------------------------------------------------------------------
// One delivery.

size_t discard_body(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

bool retryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool retryable_status(long status) { return status == 408 || status == 429 || status >= 500; }

bool stopped(const std::atomic<bool>* stop) { return stop && stop->load(); }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Seconds from a config as a clock duration, clamped to [0, a week] so that doubling
// backoffs and careless values cannot overflow the conversion.
Clock::duration clamped(double seconds) {
  constexpr double kWeek = 7 * 24 * 3600.0;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::clamp(seconds, 0.0, kWeek)));
}

// Sleeps until `until`, waking early when *stop is set. Returns false if stopped.
bool wait_until(Clock::time_point until, const std::atomic<bool>* stop) {
  while (Clock::now() < until) {
    if (stopped(stop)) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(kStopPoll, until - Clock::now()));
  }
  return !stopped(stop);
}

struct Attempt {
  CURLcode result = CURLE_OK;
  long status = 0;
  bool interrupted = false;  // *stop was set during the transfer
  std::string failure;       // "" when a 2xx came back
};

// Runs one transfer through the multi interface so that *stop is looked at every
// kStopPoll; curl_easy_perform would only notice it about once a second.
Attempt transfer(CURLM* multi, CURL* easy, const std::atomic<bool>* stop) {
  Attempt a;
  Attached attached(multi, easy);
  if (attached.code() != CURLM_OK) {
    a.result = CURLE_FAILED_INIT;
    a.failure = curl_multi_strerror(attached.code());
    return a;
  }
  int running = 1;
  for (;;) {
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc == CURLM_OK && running > 0) {
      if (stopped(stop)) {
        a.interrupted = true;
        a.failure = "stopped";
        return a;
      }
      mc = curl_multi_poll(multi, nullptr, 0, static_cast<int>(kStopPoll.count()), nullptr);
    }
    if (mc != CURLM_OK) {
      a.result = CURLE_FAILED_INIT;
      a.failure = curl_multi_strerror(mc);
      return a;
    }
    if (running == 0) break;
  }
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left))
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) a.result = msg->data.result;
  if (a.result != CURLE_OK) {
    a.failure = curl_easy_strerror(a.result);
    return a;
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &a.status);
  if (a.status < 200 || a.status > 299) a.failure = fmt::format("HTTP {}", a.status);
  return a;
}

// The request headers; the signature covers the exact body bytes.
SlistPtr request_headers(const WebhookConfig& cfg, const std::string& body, const std::string& event_id) {
  std::vector<std::string> lines = {
      "Content-Type: application/json",
      "X-Gopcast-Delivery: " + event_id,
      // curl would otherwise send "Expect: 100-continue" for bodies over 1 KiB and
      // wait a second for receivers that do not answer it.
      "Expect:",
  };
  if (!cfg.secret.empty()) lines.push_back("X-Gopcast-Signature: sha256=" + hmac_sha256_hex(cfg.secret, body));
  SlistPtr list;
  for (const auto& line : lines) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (!grown) return nullptr;
    (void)list.release();  // now owned through `grown`
    list.reset(grown);
  }
  return list;
}

std::string configure(CURL* easy, const WebhookConfig& cfg, const std::string& body, curl_slist* headers) {
  const CURLcode codes[] = {
      curl_easy_setopt(easy, CURLOPT_URL, cfg.url.c_str()),
      curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https"),
      curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L),
      // Never through a proxy: the address checked is the address connected to.
      curl_easy_setopt(easy, CURLOPT_PROXY, ""),
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L),
      curl_easy_setopt(easy, CURLOPT_POST, 1L),
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data()),
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size())),
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers),
      curl_easy_setopt(easy, CURLOPT_USERAGENT, "gopcast/" GOPCAST_VERSION),
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body),
  };
  for (CURLcode c : codes)
    if (c != CURLE_OK) return fmt::format("curl_easy_setopt: {}", curl_easy_strerror(c));
  return {};
}

}  // namespace

namespace {

// The URL parsed by libcurl, its host checked to be there.
UrlHost parse(const std::string& url, const std::string& origin, const std::string& shown) {
  UrlPtr parsed(curl_url());
  if (!parsed) fail(ErrorCode::Internal, "notify: curl_url: out of memory");
  const CURLUcode rc = curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc == CURLUE_NO_HOST)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: url: no host (got '{}')", origin, shown);
  if (rc != CURLUE_OK)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: url: {} (got '{}')", origin, curl_url_strerror(rc), shown);
  char* host_out = nullptr;
  const CURLUcode hc = curl_url_get(parsed.get(), CURLUPART_HOST, &host_out, 0);
  const CurlString host(host_out);
  if (hc != CURLUE_OK || !host || !*host) fail<SpecError>(ErrorCode::InvalidKey, "{}: url: no host (got '{}')", origin, shown);
  char* port_out = nullptr;
  const CURLUcode pc = curl_url_get(parsed.get(), CURLUPART_PORT, &port_out, CURLU_DEFAULT_PORT);
  const CurlString port(port_out);
  if (pc != CURLUE_OK || !port) fail<SpecError>(ErrorCode::InvalidKey, "{}: url: no port (got '{}')", origin, shown);
  return {host.get(), std::strtol(port.get(), nullptr, 10)};
}

}  // namespace

// ---------------------------------------------------------------------------

void validate_url(const std::string& url, const std::string& origin) {
  const std::string shown = shown_url(url);
  if (url.empty()) fail<SpecError>(ErrorCode::InvalidKey, "{}: url: empty (give an http:// or https:// URL)", origin);
  const size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? std::string() : url.substr(0, scheme_end);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme != "http" && scheme != "https")
    fail<SpecError>(ErrorCode::OutOfRange, "{}: url: only http and https URLs are accepted (got '{}')", origin, shown);
  if (has_control(url) || url.find_first_of(" \t") != std::string::npos)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: url: contains whitespace or control characters (got '{}')", origin, shown);

  // curl reads "http:///x" as host "x"; an empty authority is no host.
  if (url.find_first_of("/?#", scheme_end + 3) == scheme_end + 3)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: url: no host (got '{}')", origin, shown);

  (void)parse(url, origin, shown);
}

UrlHost url_host(const std::string& url) { return parse(url, "notify", shown_url(url)); }

Delivery deliver(const WebhookConfig& cfg, const std::string& body, const std::string& event_id,
                 const std::atomic<bool>* stop) {
  const auto start = Clock::now();
  Delivery d;
  const std::string prefix = fmt::format("notify: POST {}", shown_url(cfg.url));
  auto finish = [&](std::string error) {
    d.error = std::move(error);
    d.seconds = seconds_since(start);
    return d;
  };

  try {
    validate_url(cfg.url, "notify");
  } catch (const Error& e) {
    return finish(e.what());
  }
  if (has_control(event_id)) return finish(prefix + ": the event id contains control characters");
  if (const CURLcode c = global_init(); c != CURLE_OK)
    return finish(fmt::format("{}: curl_global_init: {}", prefix, curl_easy_strerror(c)));

  MultiPtr multi(curl_multi_init());
  EasyPtr easy(curl_easy_init());
  const SlistPtr headers = request_headers(cfg, body, event_id);
  if (!multi || !easy || !headers) return finish(prefix + ": out of memory setting up the request");
  if (std::string why = configure(easy.get(), cfg, body, headers.get()); !why.empty())
    return finish(fmt::format("{}: {}", prefix, why));

  const int attempts = std::max(1, cfg.attempts);
  const auto deadline = start + clamped(cfg.max_total_seconds);
  double backoff = cfg.backoff_seconds;
  if (stopped(stop)) return finish(prefix + ": stopped before the first attempt");
  const UrlHost target = url_host(cfg.url);
  SlistPtr pinned;  // "host:port:a,b": the checked addresses, the only ones curl connects to

  for (int n = 1; n <= attempts; ++n) {
    if (n > 1) {
      const auto resume = Clock::now() + clamped(backoff);
      backoff = std::min(2 * backoff, 1e9);
      if (resume >= deadline)
        return finish(fmt::format("{}; no time left for attempt {} within max_total_seconds {}", d.error, n,
                                  cfg.max_total_seconds));
      if (!wait_until(resume, stop)) return finish(fmt::format("{}; stopped before attempt {}", d.error, n));
    }
    // The per-attempt timeout never reaches past the bound on the whole delivery;
    // curl reads a timeout of 0 as "none", so it is at least 1 ms.
    const auto timeout = std::min(clamped(cfg.timeout_seconds), deadline - Clock::now());
    const long timeout_ms = std::max<long>(1, std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, timeout_ms);

    d.attempts = n;
    if (!pinned) {
      const CheckedHost checked = check_host(target.host, cfg.allow);
      if (!checked.refused.empty()) {
        d.attempts = 0;
        return finish(fmt::format("{}: refused: {}", prefix, checked.refused));
      }
      if (!checked.failed.empty()) {
        d.error = fmt::format("{}: {} (attempt {} of {})", prefix, checked.failed, n, attempts);
        log::debug("{}", d.error);
        continue;
      }
      const bool literal = target.host.starts_with('[');  // an IPv6 literal: curl resolves nothing
      std::vector<std::string> listed;
      for (const auto& address : checked.addresses)
        listed.push_back(address.find(':') == std::string::npos ? address : "[" + address + "]");
      const std::string entry = fmt::format("{}:{}:{}", target.host, target.port, fmt::join(listed, ","));
      pinned.reset(curl_slist_append(nullptr, entry.c_str()));
      if (!pinned) return finish(prefix + ": out of memory setting up the request");
      if (!literal) curl_easy_setopt(easy.get(), CURLOPT_RESOLVE, pinned.get());
    }
    const Attempt a = transfer(multi.get(), easy.get(), stop);
    d.http_status = a.status;
    d.error = fmt::format("{}: {} (attempt {} of {})", prefix, a.failure, n, attempts);
    if (a.failure.empty()) {
      d.delivered = true;
      return finish({});
    }
    if (a.interrupted) return finish(d.error);
    const bool again = a.result == CURLE_OK ? retryable_status(a.status) : retryable(a.result);
    if (!again) return finish(d.error);
    log::debug("{}", d.error);
  }
  return finish(d.error);
}

// ---------------------------------------------------------------------------
// Notifier

struct Notifier::State {
  struct Event {
    WebhookConfig cfg;
    std::string body;
    std::string event_id;
  };

  std::filesystem::path log_path;
  std::mutex mutex;
  std::condition_variable work;  // the worker waits here for events or shutdown
  std::condition_variable idle;  // flush waits here for the queue to drain
  std::deque<Event> queue;
  bool busy = false;
  bool shutting_down = false;
  int undelivered = 0;
  std::atomic<bool> abort{false};

  // One JSON line per event, appended (O_APPEND) through an unbuffered stream, so
  // in one write(2) and lines from several processes sharing the log do not interleave.
  void record(const Event& e, const Delivery& d) {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    const nlohmann::json line = {
        {"time", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(now))},
        {"url", shown_url(e.cfg.url)},
        {"event_id", e.event_id},
        {"attempts", d.attempts},
        {"http_status", d.http_status},
        {"error", d.error},
        {"body", e.body},
    };
    // Bodies are the caller's bytes: invalid UTF-8 is replaced rather than thrown on.
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const FilePtr file(std::fopen(log_path.c_str(), "ae"));  // "e": O_CLOEXEC
    const bool written = file && std::setvbuf(file.get(), nullptr, _IONBF, 0) == 0 &&
                         std::fwrite(text.data(), 1, text.size(), file.get()) == text.size();
    if (written)
      log::warn("{}; event {} undelivered, kept in {}", d.error, one_line(e.event_id), log_path.string());
    else
      log::warn("{}; event {} undelivered and not kept: {}: {}", d.error, one_line(e.event_id), log_path.string(),
                std::strerror(errno));
  }
};

Notifier::Notifier(std::filesystem::path undelivered_log) : state_(std::make_unique<State>()) {
  state_->log_path = std::move(undelivered_log);
  worker_ = std::thread([this] { run(); });
}

Notifier::~Notifier() {
  flush(kDestructorDeadline);
  {
    std::lock_guard lock(state_->mutex);
    state_->shutting_down = true;
  }
  state_->work.notify_all();
  worker_.join();
}

void Notifier::post(WebhookConfig cfg, std::string body, std::string event_id) {
  {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back({std::move(cfg), std::move(body), std::move(event_id)});
  }
  state_->work.notify_one();
}

int Notifier::flush(std::chrono::steady_clock::duration deadline) {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  auto drained = [&] { return s.queue.empty() && !s.busy; };
  if (!s.idle.wait_for(lock, deadline, drained)) {
    // The transfer or wait in flight returns within kStopPoll; the worker then
    // records it and everything still queued (not attempted: the flag is set).
    s.abort = true;
    s.idle.wait(lock, drained);
    s.abort = false;
  }
  return std::exchange(s.undelivered, 0);
}

void Notifier::run() {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  for (;;) {
    s.work.wait(lock, [&] { return s.shutting_down || !s.queue.empty(); });
    if (s.queue.empty()) return;  // shutting down with nothing left
    State::Event event = std::move(s.queue.front());
    s.queue.pop_front();
    s.busy = true;
    lock.unlock();
    bool delivered = false;
    try {
      const Delivery d = deliver(event.cfg, event.body, event.event_id, &s.abort);
      delivered = d.delivered;
      if (!delivered) s.record(event, d);
    } catch (const std::exception& e) {
      // Only allocation failures get here; the job must not die for a webhook.
      log::warn("notify: event {}: {}", one_line(event.event_id), e.what());
    }
    lock.lock();
    s.busy = false;
    if (!delivered) ++s.undelivered;
    s.idle.notify_all();
  }
}

}  // namespace gopcast::notify
