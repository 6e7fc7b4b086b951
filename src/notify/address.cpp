#include "notify/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

namespace gopcast::notify {

const EnumNames<AddressClass>& enum_names(AddressClass) {
  static const EnumNames<AddressClass> names{{AddressClass::Public, "public"},
                                             {AddressClass::Loopback, "loopback"},
                                             {AddressClass::Private, "private"},
                                             {AddressClass::LinkLocal, "link-local"},
                                             {AddressClass::Reserved, "reserved"}};
  return names;
}

bool allowable(AddressClass c) { return c == AddressClass::Loopback || c == AddressClass::Private; }

namespace {

// `a` (host order) within prefix/length.
bool within(uint32_t a, uint32_t prefix, int length) {
  const uint32_t mask = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
  return (a & mask) == (prefix & mask);
}

constexpr uint32_t v4(int a, int b, int c, int d) {
  return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | uint32_t(d);
}

AddressClass classify_v4(uint32_t a) {
  if (within(a, v4(127, 0, 0, 0), 8)) return AddressClass::Loopback;
  if (within(a, v4(169, 254, 0, 0), 16)) return AddressClass::LinkLocal;
  if (within(a, v4(10, 0, 0, 0), 8) || within(a, v4(172, 16, 0, 0), 12) || within(a, v4(192, 168, 0, 0), 16) ||
      within(a, v4(100, 64, 0, 0), 10))
    return AddressClass::Private;
  if (within(a, v4(0, 0, 0, 0), 8) || within(a, v4(224, 0, 0, 0), 4) || within(a, v4(240, 0, 0, 0), 4))
    return AddressClass::Reserved;  // 240/4 includes 255.255.255.255
  return AddressClass::Public;
}

AddressClass classify_v6(const std::array<uint8_t, 16>& b) {
  auto prefix = [&](std::initializer_list<uint8_t> bytes) { return std::equal(bytes.begin(), bytes.end(), b.begin()); };
  auto embedded_v4 = [&] { return (uint32_t(b[12]) << 24) | (uint32_t(b[13]) << 16) | (uint32_t(b[14]) << 8) | b[15]; };
  if (prefix({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) || prefix({0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}))
    return classify_v4(embedded_v4());
  const std::array<uint8_t, 16> zero{};
  std::array<uint8_t, 16> loopback{};
  loopback[15] = 1;
  if (b == loopback) return AddressClass::Loopback;
  if (b == zero) return AddressClass::Reserved;
  // AWS's IPv6 instance metadata service sits in the unique-local range.
  const std::array<uint8_t, 16> metadata{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (b == metadata) return AddressClass::LinkLocal;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::LinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::Private;    // fec0::/10, deprecated site-local
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::Private;                    // fc00::/7
  if (b[0] == 0xff) return AddressClass::Reserved;                            // multicast
  return AddressClass::Public;
}

}  // namespace

AddressClass classify(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return classify_v4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6->sin6_addr, 16);
    return classify_v6(bytes);
  }
  return AddressClass::Reserved;
}

std::string address_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = address->sa_family == AF_INET6
                        ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr)
                        : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(address)->sin_addr);
  if (!inet_ntop(address->sa_family, raw, text, sizeof text)) return "?";
  return text;
}

CheckedHost check_host(const std::string& host, const std::vector<AddressClass>& allow, bool numeric_only) {
  CheckedHost out;
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found);
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  if (rc != 0) {
    if (!numeric_only) out.failed = fmt::format("cannot resolve {}: {}", host, gai_strerror(rc));
    return out;
  }
  std::string first_refusal;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    const AddressClass c = classify(a->ai_addr);
    if (c == AddressClass::Public || std::find(allow.begin(), allow.end(), c) != allow.end()) {
      const std::string text = address_text(a->ai_addr);
      if (std::find(out.addresses.begin(), out.addresses.end(), text) == out.addresses.end())
        out.addresses.push_back(text);
    } else if (first_refusal.empty()) {
      const std::string text = address_text(a->ai_addr);
      const std::string what = text == name ? text : fmt::format("{} resolves to {}", host, text);
      first_refusal =
          allowable(c)
              ? fmt::format("{}, a {} address: allowed only with notify.allow = [\"{}\"]", what, to_string(c), to_string(c))
              : fmt::format("{}, a {} address: never allowed", what, to_string(c));
    }
  }
  if (out.addresses.empty()) out.refused = first_refusal;
  return out;
}

}  // namespace gopcast::notify
