#pragma once
// Webhook notifications: a signed JSON POST per event, retried a bounded number of
// times, delivered in the background so a transcoding job never waits on a receiver.
// This folder is the only place that includes libcurl; the HMAC comes from crypto/.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "crypto/crypto.hpp"
#include "notify/address.hpp"

namespace gopcast::notify {

struct WebhookConfig {
  std::string url;                 // http:// or https:// only
  std::string secret;              // HMAC-SHA256 key; "" = unsigned
  int attempts = 4;                // total tries, >= 1
  double timeout_seconds = 5;      // per attempt (connect + transfer)
  double backoff_seconds = 1;      // wait before the 2nd try; doubles each time
  double max_total_seconds = 30;   // hard bound on one delivery incl. waits
  std::vector<AddressClass> allow; // besides public addresses: loopback, private (address.hpp)
};

// Throws SpecError with a one-line message "<origin>: url: ..." (origin e.g.
// "web.toml: notify"): OutOfRange for a scheme other than http/https (or none, as in
// "localhost:80"), InvalidKey for an empty URL, one with whitespace or control
// characters, or one without a host. A password in the URL is shown as "***".
void validate_url(const std::string& url, const std::string& origin);

// The URL's host as libcurl reads it ("example.org", "[::1]") and its port (the
// scheme's default when none is given). The URL must pass validate_url.
struct UrlHost {
  std::string host;
  long port = 0;
};
UrlHost url_host(const std::string& url);

// HMAC-SHA256 of `body` under `key`, as 64 lowercase hex digits.
using crypto::hmac_sha256_hex;  // the signature of each event (crypto/crypto.hpp)

struct Delivery {
  bool delivered = false;
  int attempts = 0;       // requests actually started
  long http_status = 0;   // of the last response; 0 when none came
  std::string error;      // why the last attempt failed; "" when delivered
  double seconds = 0;     // wall time of the whole delivery, waits included
};

// POSTs `body` (JSON) once per attempt until a 2xx, with the headers Content-Type,
// User-Agent: gopcast/<version>, X-Gopcast-Delivery: <event_id> and, when a secret
// is set, X-Gopcast-Signature: sha256=<hmac_sha256_hex(secret, body)>. Retries on
// connection errors, timeouts, 5xx, 408 and 429; any other answer (other 4xx, a
// redirect, which is never followed) ends the delivery. The host is resolved once
// and the request sent only to the addresses that `cfg.allow` permits (check_host),
// never through a proxy (the environment's http_proxy would connect elsewhere); a
// host with no permitted address ends the delivery before any request. Never throws for network
// problems or a bad URL or event id: the outcome is data. Setting *stop aborts a
// wait or a transfer within about 50 ms.
Delivery deliver(const WebhookConfig& cfg, const std::string& body, const std::string& event_id,
                 const std::atomic<bool>* stop = nullptr);

// Background delivery: one worker thread sends the posted events in order. Events
// that end undelivered are appended to `undelivered_log` as JSON lines (time, url,
// event_id, attempts, http_status, error, body; never the secret) and warned about
// through gopcast's log.
class Notifier {
 public:
  explicit Notifier(std::filesystem::path undelivered_log);
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier();  // flush(2 s), then stops the worker

  // Returns at once; the event is queued behind those posted before it.
  void post(WebhookConfig cfg, std::string body, std::string event_id);

  // Waits until every queued event has been delivered or given up, or until
  // `deadline` has passed; then the transfer in flight is aborted and what is still
  // queued is logged without being sent. Returns how many events ended undelivered
  // since the previous flush (those that failed every attempt included). Events
  // posted from another thread while a deadline is being enforced are logged too.
  int flush(std::chrono::steady_clock::duration deadline);

 private:
  struct State;
  void run();

  std::unique_ptr<State> state_;
  std::thread worker_;
};

}  // namespace gopcast::notify
