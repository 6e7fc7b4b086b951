// Webhook delivery against a real HTTP receiver in this process: a thread on a
// 127.0.0.1 socket that parses each request and answers from a script.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../test_support.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "notify/webhook.hpp"

using namespace gopcast;
using namespace gopcast::notify;
using namespace std::chrono_literals;
using gopcast::test::contains;
using gopcast::test::expect_error;
using Clock = std::chrono::steady_clock;

namespace {

// A proxy from the environment would take requests to 127.0.0.1 elsewhere.
class NoProxy : public ::testing::Environment {
 public:
  void SetUp() override {
    for (const char* name : {"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"})
      ::unsetenv(name);
  }
};
[[maybe_unused]] ::testing::Environment* const kNoProxy = ::testing::AddGlobalTestEnvironment(new NoProxy);

using Socket = gopcast::UniqueFd;

// A listening socket on 127.0.0.1 and an ephemeral port.
Socket listen_on_loopback(int* port) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (s.get() < 0 || ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(s.get(), 16) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("test receiver: cannot listen on 127.0.0.1");
  *port = ntohs(addr.sin_port);
  return s;
}

// A URL whose port nothing listens on: bound once, then closed.
std::string refused_url(const std::string& path = "/hook") {
  int port = 0;
  listen_on_loopback(&port);
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

struct Request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string("<absent>") : it->second;
  }
};

struct Reply {
  int status = 200;
  std::chrono::milliseconds delay{0};
  bool silent = false;  // read the request, then never answer
};
const Reply kSilent{.silent = true};

// Answers the n-th request with script[n], the last entry for every later one.
class Receiver {
 public:
  explicit Receiver(std::vector<Reply> script = {Reply{}}) : script_(std::move(script)), listener_(listen_on_loopback(&port_)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
  }

  std::string url(const std::string& path = "/hook") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int port() const { return port_; }

  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      Socket client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (client.get() < 0) continue;
      Request request;
      if (!read_request(client.get(), &request)) continue;
      size_t n;
      {
        std::lock_guard lock(mutex_);
        n = requests_.size();
        requests_.push_back(std::move(request));
      }
      const Reply& reply = script_[std::min(n, script_.size() - 1)];
      const auto until = Clock::now() + reply.delay;
      while (!stop_ && Clock::now() < until) std::this_thread::sleep_for(5ms);
      if (reply.silent) {
        held_.push_back(std::move(client));  // open until the receiver dies
        continue;
      }
      std::string response = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n";
      if (reply.status / 100 == 3) response += "Location: " + url("/elsewhere") + "\r\n";
      response += "Content-Length: 2\r\nConnection: close\r\n\r\nok";
      ::send(client.get(), response.data(), response.size(), MSG_NOSIGNAL);
    }
  }

  // Reads the request line, the headers and a Content-Length body.
  bool read_request(int fd, Request* r) {
    std::string data;
    size_t header_end = std::string::npos;
    size_t wanted = std::string::npos;
    const auto give_up = Clock::now() + 5s;
    while (!stop_ && Clock::now() < give_up) {
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::istringstream head(data.substr(0, header_end));
        std::string line;
        std::getline(head, line);
        std::istringstream(line) >> r->method >> r->target;
        while (std::getline(head, line)) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          const size_t colon = line.find(':');
          if (colon == std::string::npos) continue;
          std::string name = line.substr(0, colon);
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          const size_t value = line.find_first_not_of(' ', colon + 1);
          r->headers[name] = value == std::string::npos ? "" : line.substr(value);
        }
        wanted = header_end + 4 + std::stoul(r->headers.count("content-length") ? r->headers["content-length"] : "0");
      }
      if (wanted != std::string::npos && data.size() >= wanted) {
        r->body = data.substr(header_end + 4, wanted - header_end - 4);
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got <= 0) return false;
      data.append(buf, static_cast<size_t>(got));
    }
    return false;
  }

  std::vector<Reply> script_;
  int port_ = 0;
  Socket listener_;
  std::vector<Socket> held_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

WebhookConfig quick(const std::string& url) {
  WebhookConfig cfg;
  cfg.url = url;
  cfg.attempts = 4;
  cfg.timeout_seconds = 2;
  cfg.backoff_seconds = 0.05;
  cfg.max_total_seconds = 5;
  cfg.allow = {AddressClass::Loopback};  // the receiver is on 127.0.0.1
  return cfg;
}

std::vector<nlohmann::json> json_lines(const std::filesystem::path& p) {
  std::vector<nlohmann::json> out;
  std::istringstream in(gopcast::test::read_file(p));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void expect_undelivered(const Delivery& d, int attempts, const std::string& error_part) {
  EXPECT_FALSE(d.delivered);
  EXPECT_EQ(d.attempts, attempts) << d.error;
  EXPECT_TRUE(contains(d.error, error_part)) << "\"" << error_part << "\" not in: " << d.error;
}

}  // namespace

// ---------------------------------------------------------------------------

TEST(Hmac, MatchesRfc4231TestCases1And2) {
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // An empty key is a key of zero bytes, not OpenSSL's "reuse the previous key".
  EXPECT_EQ(hmac_sha256_hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(ValidateUrl, AcceptsHttpAndHttps) {
  for (const char* url : {"http://example.com", "https://example.com/", "HTTPS://Example.com/x", "http://example.com:8080",
                          "https://hooks.example.com:8443/a/b/c?token=abc&x=1", "http://[::1]:9000/hook", "http://[2001:db8::7]/",
                          "http://127.0.0.1:1/x?y=z#frag", "http://user:pw@example.com/"}) {
    EXPECT_NO_THROW(validate_url(url, "web.toml: notify")) << url;
  }
}

TEST(ValidateUrl, OtherSchemesAreOutOfRange) {
  const std::string message = expect_error<SpecError>([] { validate_url("ftp://x", "web.toml: notify"); }, ErrorCode::OutOfRange);
  EXPECT_EQ(message, "web.toml: notify: url: only http and https URLs are accepted (got 'ftp://x')");
  for (const char* url : {"file:///etc/passwd", "gopher://example.com/", "localhost:80", "example.com/hook", "httpx://a"})
    expect_error<SpecError>([&] { validate_url(url, "web.toml: notify"); }, ErrorCode::OutOfRange,
                            {"web.toml: notify: url: only http and https", url});
}

TEST(ValidateUrl, MalformedUrlsAreInvalidKeyOnOneLine) {
  expect_error<SpecError>([] { validate_url("", "job.toml: notify"); }, ErrorCode::InvalidKey, {"job.toml: notify: url: empty"});
  expect_error<SpecError>([] { validate_url("http://", "o"); }, ErrorCode::InvalidKey, {"o: url: no host", "'http://'"});
  expect_error<SpecError>([] { validate_url("https:///path", "o"); }, ErrorCode::InvalidKey, {"o: url: no host"});
  expect_error<SpecError>([] { validate_url("http://a b", "o"); }, ErrorCode::InvalidKey, {"whitespace", "'http://a b'"});
  expect_error<SpecError>([] { validate_url("http://a:99999/", "o"); }, ErrorCode::InvalidKey, {"o: url: "});
  const std::string m = expect_error<SpecError>([] { validate_url("http://a/\r\nX-Evil: 1", "o"); }, ErrorCode::InvalidKey,
                                                {"control characters", "\\x0d\\x0a"});
  EXPECT_FALSE(contains(m, "\n")) << m;
}

TEST(ValidateUrl, NeverEchoesAPassword) {
  const std::string m = expect_error<SpecError>([] { validate_url("ftp://alice:hunter2@files.example.com/", "o"); },
                                                ErrorCode::OutOfRange, {"alice:***@files.example.com"});
  EXPECT_FALSE(contains(m, "hunter2")) << m;
}

// ---------------------------------------------------------------------------

TEST(Deliver, BodyAndHeadersArriveExactly) {
  Receiver receiver;
  // Over 1 KiB, where curl would otherwise ask for "100-continue" and stall.
  const std::string body = R"({"event":"job.done","name":"clip \"é\" ü","pad":")" + std::string(3000, 'x') + "\"}";
  const Delivery d = deliver(quick(receiver.url("/hook?team=7")), body, "job-42.done");
  EXPECT_TRUE(d.delivered) << d.error;
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.http_status, 200);
  EXPECT_EQ(d.error, "");
  EXPECT_GT(d.seconds, 0);

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Request& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/hook?team=7");
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.header("content-length"), std::to_string(body.size()));
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("x-gopcast-delivery"), "job-42.done");
  EXPECT_EQ(r.header("user-agent").rfind("gopcast/", 0), 0u) << r.header("user-agent");
  EXPECT_GT(r.header("user-agent").size(), std::string("gopcast/").size());
  EXPECT_EQ(r.header("x-gopcast-signature"), "<absent>");  // no secret, no signature
  EXPECT_EQ(r.header("expect"), "<absent>");
}

TEST(Deliver, SignatureVerifiesOverTheExactBody) {
  Receiver receiver;
  WebhookConfig cfg = quick(receiver.url());
  cfg.secret = "s3cr3t-k3y";
  const std::string body = "{\"event\":\"job.failed\",\"code\":20}\n";  // trailing newline is part of what is signed
  ASSERT_TRUE(deliver(cfg, body, "e1").delivered);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string signature = requests[0].header("x-gopcast-signature");
  // What a receiver does: recompute over the bytes it got, with the shared secret.
  EXPECT_EQ(signature, "sha256=" + hmac_sha256_hex("s3cr3t-k3y", requests[0].body));
  EXPECT_EQ(signature.size(), 7u + 64u);
  EXPECT_EQ(signature.find_first_not_of("0123456789abcdef", 7), std::string::npos) << signature;
  EXPECT_NE(signature, "sha256=" + hmac_sha256_hex("other key", requests[0].body));
  EXPECT_FALSE(contains(requests[0].body + requests[0].target, "s3cr3t"));
}

TEST(Deliver, RetriesAfter500And500Then200) {
  Receiver receiver({{500}, {500}, {200}});
  const Delivery d = deliver(quick(receiver.url()), "{}", "e-retry");
  EXPECT_TRUE(d.delivered) << d.error;
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.http_status, 200);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& r : requests) {  // every retry is the same delivery
    EXPECT_EQ(r.header("x-gopcast-delivery"), "e-retry");
    EXPECT_EQ(r.body, "{}");
  }
  EXPECT_GE(d.seconds, 0.05 + 0.1);  // backoff 0.05 s, doubled
}

TEST(Deliver, Retries408And429And503) {
  Receiver receiver({{408}, {429}, {503}, {204}});
  const Delivery d = deliver(quick(receiver.url()), "{}", "e");
  EXPECT_TRUE(d.delivered) << d.error;
  EXPECT_EQ(d.attempts, 4);
  EXPECT_EQ(d.http_status, 204);
  EXPECT_EQ(receiver.requests().size(), 4u);
}

TEST(Deliver, AnsweredWithOtherStatusIsNotRetried) {
  for (int status : {400, 404, 302}) {
    Receiver receiver({{status}, {200}});
    const Delivery d = deliver(quick(receiver.url()), "{}", "e");
    expect_undelivered(d, 1, "HTTP " + std::to_string(status));
    EXPECT_EQ(d.http_status, status);
    EXPECT_EQ(d.error, "notify: POST " + receiver.url() + ": HTTP " + std::to_string(status) + " (attempt 1 of 4)");
    // A redirect is not followed: /elsewhere is never asked for.
    ASSERT_EQ(receiver.requests().size(), 1u) << status;
    EXPECT_EQ(receiver.requests()[0].target, "/hook");
  }
}

TEST(Deliver, ConnectionRefusedIsRetriedWithBackoff) {
  WebhookConfig cfg = quick(refused_url());
  cfg.attempts = 3;
  cfg.backoff_seconds = 0.1;
  const Delivery d = deliver(cfg, "{}", "e");
  expect_undelivered(d, 3, "Couldn't connect to server");
  EXPECT_EQ(d.http_status, 0);
  EXPECT_EQ(d.error, "notify: POST " + cfg.url + ": Couldn't connect to server (attempt 3 of 3)");
  EXPECT_GE(d.seconds, 0.1 + 0.2);  // waited before the 2nd and 3rd tries
  EXPECT_LT(d.seconds, 1.5);
}

TEST(Deliver, MaxTotalSecondsBoundsWaitsAndTransfers) {
  // Waits of 0.1, 0.2, then 0.4 s would end past 0.5 s: three tries, then give up.
  WebhookConfig cfg = quick(refused_url());
  cfg.attempts = 10;
  cfg.backoff_seconds = 0.1;
  cfg.max_total_seconds = 0.5;
  Delivery d = deliver(cfg, "{}", "e");
  expect_undelivered(d, 3, "(attempt 3 of 10); no time left for attempt 4");
  EXPECT_LE(d.seconds, 0.5);

  // The per-attempt timeout is cut to what is left of the bound.
  Receiver silent({kSilent});
  cfg = quick(silent.url());
  cfg.timeout_seconds = 5;
  cfg.max_total_seconds = 0.4;
  d = deliver(cfg, "{}", "e");
  expect_undelivered(d, 1, "Timeout was reached (attempt 1 of 4)");
  EXPECT_GE(d.seconds, 0.35);
  EXPECT_LT(d.seconds, 2.0);  // not the 5 s timeout
}

TEST(Deliver, SilentReceiverHitsThePerAttemptTimeout) {
  Receiver receiver({kSilent});
  WebhookConfig cfg = quick(receiver.url());
  cfg.attempts = 2;
  cfg.timeout_seconds = 0.3;
  const Delivery d = deliver(cfg, "{}", "e");
  expect_undelivered(d, 2, "Timeout was reached (attempt 2 of 2)");
  EXPECT_EQ(d.http_status, 0);
  EXPECT_GE(d.seconds, 0.6);  // 0.3 + 0.05 + 0.3, less curl's timer firing a hair early
  EXPECT_LT(d.seconds, 2.0);
  EXPECT_EQ(receiver.requests().size(), 2u);
}

TEST(Deliver, StopEndsATransferOrAWaitPromptly) {
  std::atomic<bool> stop{false};
  // Delivers with `stop` set 0.2 s in, from another thread.
  auto deliver_stopped_later = [&stop](const WebhookConfig& cfg) {
    stop = false;
    std::thread stopper([&stop] {
      std::this_thread::sleep_for(200ms);
      stop = true;
    });
    const Delivery d = deliver(cfg, "{}", "e", &stop);
    stopper.join();
    return d;
  };
  Receiver silent({kSilent});
  WebhookConfig in_transfer = quick(silent.url());
  in_transfer.timeout_seconds = 10;
  Delivery d = deliver_stopped_later(in_transfer);
  expect_undelivered(d, 1, "stopped (attempt 1 of 4)");
  EXPECT_LT(d.seconds, 1.0);  // not the 10 s timeout

  WebhookConfig in_wait = quick(refused_url());
  in_wait.backoff_seconds = 10;
  in_wait.max_total_seconds = 60;
  d = deliver_stopped_later(in_wait);
  expect_undelivered(d, 1, "Couldn't connect to server (attempt 1 of 4); stopped before attempt 2");
  EXPECT_LT(d.seconds, 1.0);  // not the 10 s backoff

  // Already set: nothing is sent.
  expect_undelivered(deliver(quick(refused_url()), "{}", "e", &stop), 0, "stopped before the first attempt");
}

TEST(Deliver, BadUrlOrEventIdIsAnOutcomeNotAnException) {
  Delivery d;
  EXPECT_NO_THROW(d = deliver(quick("file:///etc/passwd"), "{}", "e"));
  expect_undelivered(d, 0, "only http and https");

  Receiver receiver;
  EXPECT_NO_THROW(d = deliver(quick(receiver.url()), "{}", "e\r\nX-Injected: 1"));
  expect_undelivered(d, 0, "control characters");
  EXPECT_TRUE(receiver.requests().empty());
}

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Where a webhook may connect (address.hpp).

AddressClass class_of(const std::string& text) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(text.c_str(), nullptr, &hints, &found) != 0) throw std::runtime_error("not an address: " + text);
  const AddressClass c = classify(found->ai_addr);
  freeaddrinfo(found);
  return c;
}

TEST(Address, ClassesFollowTheRegistries) {
  const std::vector<std::pair<std::string, AddressClass>> cases = {
      {"127.0.0.1", AddressClass::Loopback},       {"127.255.1.2", AddressClass::Loopback},
      {"::1", AddressClass::Loopback},             {"::ffff:127.0.0.1", AddressClass::Loopback},
      {"10.0.0.1", AddressClass::Private},         {"172.16.0.1", AddressClass::Private},
      {"172.31.255.255", AddressClass::Private},   {"192.168.1.1", AddressClass::Private},
      {"100.64.0.1", AddressClass::Private},       {"fd12:3456::1", AddressClass::Private},
      {"fc00::1", AddressClass::Private},          {"::ffff:10.0.0.1", AddressClass::Private},
      {"169.254.169.254", AddressClass::LinkLocal}, {"fe80::1", AddressClass::LinkLocal},
      {"febf::1", AddressClass::LinkLocal},        {"fd00:ec2::254", AddressClass::LinkLocal},
      {"64:ff9b::a9fe:a9fe", AddressClass::LinkLocal},  // NAT64 of 169.254.169.254
      {"::ffff:169.254.169.254", AddressClass::LinkLocal},
      {"0.0.0.0", AddressClass::Reserved},         {"224.0.0.1", AddressClass::Reserved},
      {"255.255.255.255", AddressClass::Reserved}, {"::", AddressClass::Reserved},
      {"ff02::1", AddressClass::Reserved},         {"8.8.8.8", AddressClass::Public},
      {"172.32.0.1", AddressClass::Public},        {"100.128.0.1", AddressClass::Public},
      {"2001:db8::1", AddressClass::Public},       {"169.253.0.1", AddressClass::Public},
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(to_string(class_of(text)), to_string(want)) << text;
}

TEST(Address, CheckHostKeepsOnlyPermittedAddresses) {
  const CheckedHost loop = check_host("127.0.0.1", {});
  EXPECT_TRUE(loop.addresses.empty());
  EXPECT_TRUE(contains(loop.refused, "127.0.0.1, a loopback address: allowed only with notify.allow")) << loop.refused;
  EXPECT_EQ(check_host("127.0.0.1", {AddressClass::Loopback}).addresses, std::vector<std::string>{"127.0.0.1"});
  // getaddrinfo's other spellings of an address are the same address.
  EXPECT_FALSE(check_host("2130706433", {}).refused.empty());
  EXPECT_FALSE(check_host("0x7f.1", {}).refused.empty());
  EXPECT_TRUE(contains(check_host("[fe80::1]", {AddressClass::Loopback, AddressClass::Private}).refused, "never allowed"));
  // A name is looked up only when asked to.
  const CheckedHost name = check_host("localhost", {}, true);
  EXPECT_TRUE(name.addresses.empty() && name.refused.empty() && name.failed.empty());
  EXPECT_TRUE(contains(check_host("localhost", {}).refused, "localhost resolves to ")) << check_host("localhost", {}).refused;
  EXPECT_FALSE(check_host("no-such-host.invalid", {}).failed.empty());
}

TEST(Deliver, LoopbackIsRefusedUnlessAllowedAndNothingIsSent) {
  Receiver receiver;
  WebhookConfig cfg = quick(receiver.url());
  cfg.allow.clear();
  const Delivery d = deliver(cfg, "{}", "e-ssrf");
  EXPECT_FALSE(d.delivered);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_TRUE(contains(d.error, "refused: 127.0.0.1, a loopback address")) << d.error;
  EXPECT_TRUE(receiver.requests().empty());
  // The same receiver by name: refused as well, then reached once loopback is allowed,
  // with the name (not the address) in the Host header.
  const std::string by_name = "http://localhost:" + std::to_string(receiver.port()) + "/";
  cfg.url = by_name;
  EXPECT_TRUE(contains(deliver(cfg, "{}", "e-ssrf").error, "localhost resolves to ")) << deliver(cfg, "{}", "e-ssrf").error;
  EXPECT_TRUE(receiver.requests().empty());
  cfg.allow = {AddressClass::Loopback};
  const Delivery ok = deliver(cfg, "{}", "e-local");
  EXPECT_TRUE(ok.delivered) << ok.error;
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].header("host"), "localhost:" + std::to_string(receiver.port()));
}

TEST(Deliver, LinkLocalMetadataIsNeverContacted) {
  WebhookConfig cfg = quick("http://169.254.169.254/latest/meta-data/iam/");
  cfg.allow = {AddressClass::Loopback, AddressClass::Private};
  const auto start = Clock::now();
  const Delivery d = deliver(cfg, "{}", "e-meta");
  EXPECT_FALSE(d.delivered);
  EXPECT_EQ(d.attempts, 0);
  EXPECT_TRUE(contains(d.error, "169.254.169.254, a link-local address: never allowed")) << d.error;
  EXPECT_LT(Clock::now() - start, 1s);  // no connection was tried, no retry waited
}

TEST(Deliver, AProxyInTheEnvironmentIsNotUsed) {
  // A proxy would connect to the receiver on gopcast's behalf, whatever the policy.
  Receiver receiver;
  Receiver proxy;
  ::setenv("http_proxy", proxy.url().c_str(), 1);
  const Delivery d = deliver(quick(receiver.url()), "{}", "e-proxy");
  ::unsetenv("http_proxy");
  EXPECT_TRUE(d.delivered) << d.error;
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_TRUE(proxy.requests().empty());
}

TEST(Notifier, PostReturnsAtOnceAndDeliversInOrder) {
  gopcast::test::TempDir dir;
  Receiver receiver({{.status = 200, .delay = 300ms}});
  Notifier notifier(dir / "undelivered.jsonl");
  const auto start = Clock::now();
  for (int i = 1; i <= 3; ++i) notifier.post(quick(receiver.url()), fmt::format("{{\"n\":{}}}", i), fmt::format("e{}", i));
  EXPECT_LT(seconds_since(start), 0.1);  // the receiver takes 0.3 s per event

  EXPECT_EQ(notifier.flush(10s), 0);
  EXPECT_GE(seconds_since(start), 0.9);  // flush did wait for all three
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(requests[i - 1].header("x-gopcast-delivery"), fmt::format("e{}", i));
    EXPECT_EQ(requests[i - 1].body, fmt::format("{{\"n\":{}}}", i));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "undelivered.jsonl"));
}

TEST(Notifier, FlushDeadlineAbortsAndLogsWhatIsUndelivered) {
  gopcast::test::TempDir dir;
  Receiver receiver({kSilent});
  Notifier notifier(dir / "undelivered.jsonl");
  WebhookConfig cfg = quick(receiver.url());
  cfg.timeout_seconds = 30;
  cfg.max_total_seconds = 60;
  cfg.secret = "never-in-a-log";
  notifier.post(cfg, R"({"event":"job.done","job":"a"})", "a.done");  // in flight, never answered
  notifier.post(cfg, R"({"event":"job.done","job":"b"})", "b.done");  // still queued at the deadline

  log::set_level(log::Level::Warn);
  ::testing::internal::CaptureStderr();
  const auto start = Clock::now();
  const int undelivered = notifier.flush(300ms);
  const double waited = seconds_since(start);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(undelivered, 2);
  EXPECT_GE(waited, 0.29);
  EXPECT_LT(waited, 2.0);  // the 30 s transfer was aborted

  const auto lines = json_lines(dir / "undelivered.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event_id"], "a.done");
  EXPECT_EQ(lines[0]["attempts"], 1);
  EXPECT_EQ(lines[0]["body"], R"({"event":"job.done","job":"a"})");
  EXPECT_EQ(lines[0]["url"], receiver.url());
  EXPECT_TRUE(contains(lines[0]["error"].get<std::string>(), "stopped (attempt 1 of 4)")) << lines[0];
  EXPECT_EQ(lines[1]["event_id"], "b.done");
  EXPECT_EQ(lines[1]["attempts"], 0);
  EXPECT_EQ(lines[1]["body"], R"({"event":"job.done","job":"b"})");
  for (const auto& line : lines) {
    EXPECT_EQ(line["time"].get<std::string>().size(), std::string("2025-01-01T00:00:00Z").size()) << line;
    EXPECT_FALSE(line.contains("secret"));
  }
  EXPECT_TRUE(contains(warnings, "a.done undelivered")) << warnings;
  EXPECT_TRUE(contains(warnings, "b.done undelivered")) << warnings;
  EXPECT_FALSE(contains(warnings + gopcast::test::read_file(dir / "undelivered.jsonl"), "never-in-a-log"));

  // The notifier still works after a flush that ran out of time.
  Receiver healthy;
  notifier.post(quick(healthy.url()), "{}", "c.done");
  EXPECT_EQ(notifier.flush(5s), 0);
  EXPECT_EQ(healthy.requests().size(), 1u);
}

TEST(Notifier, EventsThatFailEveryAttemptAreLoggedAndCounted) {
  gopcast::test::TempDir dir;
  WebhookConfig cfg = quick(refused_url());
  cfg.attempts = 2;
  {
    Notifier notifier(dir / "undelivered.jsonl");
    notifier.post(cfg, "{\"n\":1}", "one");
    EXPECT_EQ(notifier.flush(5s), 1);
    EXPECT_EQ(notifier.flush(5s), 0);  // counted once
    notifier.post(cfg, "{\"n\":2}", "two");
  }  // the destructor flushes too
  const auto lines = json_lines(dir / "undelivered.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event_id"], "one");
  EXPECT_EQ(lines[0]["attempts"], 2);
  EXPECT_EQ(lines[0]["http_status"], 0);
  EXPECT_EQ(lines[0]["error"], "notify: POST " + cfg.url + ": Couldn't connect to server (attempt 2 of 2)");
  EXPECT_EQ(lines[1]["event_id"], "two");
}
