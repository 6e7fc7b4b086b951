#pragma once
// Where a webhook may connect. A pipeline's webhook reaches public addresses; loopback
// and private ranges only when the pipeline allows them (`notify.allow`); link-local
// addresses (169.254.0.0/16, fe80::/10, where cloud metadata services answer, and the
// metadata address fd00:ec2::254) and unspecified, multicast or reserved ones never.
// The host is resolved once per delivery, each address checked, and the connection
// made to the checked address only (a name that later resolves elsewhere changes
// nothing: DNS rebinding).
#include <sys/socket.h>

#include <string>
#include <vector>

#include "core/enum_names.hpp"

namespace gopcast::notify {

enum class AddressClass {
  Public,
  Loopback,   // 127.0.0.0/8, ::1
  Private,    // 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), fc00::/7, fec0::/10
  LinkLocal,  // 169.254/16, fe80::/10, fd00:ec2::254: never
  Reserved,   // 0/8, multicast, 240/4, broadcast, ::, ff00::/8: never
};
const EnumNames<AddressClass>& enum_names(AddressClass);

// IPv4-mapped and NAT64 (64:ff9b::/96) IPv6 addresses are classed by the IPv4
// address they carry.
AddressClass classify(const sockaddr* address);

// The classes a pipeline may allow (loopback, private); the rest are public (always
// allowed) or never allowed.
bool allowable(AddressClass c);

// An address as text ("127.0.0.1", "::1").
std::string address_text(const sockaddr* address);

// The address a delivery connects to, or why there is none.
struct CheckedHost {
  std::vector<std::string> addresses;  // those of the host's addresses the policy allows, as text
  std::string refused;  // why the host may not be reached (policy): a delivery ends
  std::string failed;   // why it did not resolve (DNS): a delivery retries
};

// Resolves `host` (a name, or an address in any form getaddrinfo reads: "10.1",
// "[::1]") and checks every address against the policy: public always, the classes in
// `allow` (loopback, private) too, the rest never; a host some of whose addresses are
// refused is reached at the others only. `numeric_only`: a name is not
// looked up and comes back with all fields empty (what pipeline loading uses to
// refuse a literal address before anything is submitted).
CheckedHost check_host(const std::string& host, const std::vector<AddressClass>& allow, bool numeric_only = false);

}  // namespace gopcast::notify
