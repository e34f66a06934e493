// ISC license.
// DNS answers (owfat/resolve.h): the packet parsers behind qmail-remote's MX,
// A and AAAA lookups, each given the same response packet, and the MX order
// (remote/route.h) applied to what they return. libowfat itself comes from
// Debian's prebuilt archive, so ASan sees its heap but not its reads; the
// checks here are on what reaches qfleet: addresses that parse as addresses,
// MX hosts without NUL.
// max_len: 2048 (tests/fuzz/run passes it to libFuzzer)
#include <arpa/inet.h>

#include <random>
#include <string>
#include <vector>

#include "fuzz.h"
#include "owfat/resolve.h"
#include "remote/route.h"

using namespace qf;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size) {
  std::string_view packet(reinterpret_cast<char const*>(data), size);
  unsigned char bin[16];

  std::vector<dns::Mx> mx;
  if (dns::mx_packet(packet, &mx) == dns::Result::ok) {
    for (auto const& m : mx) FUZZ_CHECK(m.host.find('\0') == std::string::npos && m.pref <= 65535);
    std::mt19937 rng(size);
    auto sorted = mx;
    remote::order_mx(&sorted, &rng);
    FUZZ_CHECK(sorted.size() == mx.size());
    for (size_t i = 1; i < sorted.size(); i++) FUZZ_CHECK(sorted[i - 1].pref <= sorted[i].pref);
  } else {
    FUZZ_CHECK(mx.empty());
  }
  std::vector<std::string> a;
  if (dns::ip4_packet(packet, &a) == dns::Result::ok)
    for (auto const& s : a) FUZZ_CHECK(inet_pton(AF_INET, s.c_str(), bin) == 1);
  std::vector<std::string> aaaa;
  if (dns::ip6_packet(packet, &aaaa) == dns::Result::ok)
    for (auto const& s : aaaa) FUZZ_CHECK(inet_pton(AF_INET6, s.c_str(), bin) == 1);
  return 0;
}
