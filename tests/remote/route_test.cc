// ISC license.
#include "remote/route.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

#include "owfat/resolve.h"

using namespace qf::remote;
using qf::dns::Mx;
using qf::dns::Result;

TEST_CASE("route: smtproutes, qmail's longest-suffix match", "[remote][route]") {
  Routes r;
  size_t bad = 0;
  r.parse({"example.com:relay.example.net", ".example.com:sub-relay:2525", "Other.ORG:[10.1.2.3]:26",
           "direct.example.com:", ":default.example:587", "broken", "x.org:h:99999", "v6.test:[IPv6:::1]:25"},
          &bad);
  CHECK(bad == 2);
  REQUIRE(r.match("example.com"));
  CHECK(r.match("example.com")->relay == "relay.example.net");
  CHECK(r.match("EXAMPLE.com")->relay == "relay.example.net");
  CHECK(r.match("a.b.example.com")->relay == "sub-relay");
  CHECK(r.match("a.b.example.com")->port == 2525);
  CHECK(r.match("direct.example.com")->relay.empty());
  CHECK(r.match("other.org")->relay == "[10.1.2.3]");
  CHECK(r.match("other.org")->port == 26);
  CHECK(r.match("notexample.com")->relay == "default.example");  // no '.' boundary: default
  CHECK(r.match("v6.test")->relay == "[IPv6:::1]");

  Route a = route_for(r, "a.example.com");
  CHECK(a.kind == Route::Kind::relay);
  CHECK(a.host == "sub-relay");
  CHECK(a.key() == "Rsub-relay:2525");
  Route d = route_for(r, "direct.example.com");
  CHECK(d.kind == Route::Kind::mx);
  CHECK(d.key() == "Mdirect.example.com:25");
  CHECK(route_for(r, "other.org").host == "[10.1.2.3]");
  // Two domains relayed to one host share the destination key: one connection serves both.
  CHECK(route_for(r, "zzz.test").key() == route_for(r, "yyy.test").key());

  Routes none;
  Route m = route_for(none, "Example.NET");
  CHECK(m.kind == Route::Kind::mx);
  CHECK(m.host == "example.net");
  Route lit = route_for(none, "[127.0.0.1]");
  CHECK(lit.kind == Route::Kind::literal);
  CHECK(lit.host == "127.0.0.1");
}

TEST_CASE("route: MX on another port with an empty relay", "[remote][route]") {
  Routes r;
  r.parse({"sink.test::2526"});
  Route m = route_for(r, "sink.test");
  CHECK(m.kind == Route::Kind::mx);
  CHECK(m.port == 2526);
}

TEST_CASE("route: address literals", "[remote][route]") {
  std::string a;
  CHECK(parse_literal("[127.0.0.1]", &a));
  CHECK(a == "127.0.0.1");
  CHECK(parse_literal("[IPv6:0:0::1]", &a));
  CHECK(a == "::1");
  CHECK_FALSE(parse_literal("127.0.0.1", &a));
  CHECK_FALSE(parse_literal("[example.com]", &a));
  CHECK_FALSE(parse_literal("[1.2.3.4.5]", &a));
}

TEST_CASE("route: MX preference order, equal preferences shuffled", "[remote][route]") {
  std::set<std::string> firsts;
  for (unsigned seed = 0; seed < 200; seed++) {
    std::vector<Mx> mx = {{20, "c"}, {10, "a1"}, {30, "d"}, {10, "a2"}, {20, "c2"}, {10, "a3"}};
    std::mt19937 rng(seed);
    order_mx(&mx, &rng);
    REQUIRE(mx.size() == 6);
    for (size_t i = 1; i < mx.size(); i++) CHECK(mx[i - 1].pref <= mx[i].pref);
    CHECK(mx[5].host == "d");
    firsts.insert(mx[0].host);
  }
  CHECK(firsts == std::set<std::string>{"a1", "a2", "a3"});
}

namespace {

// Answers from tables; a name in temp fails temporarily.
struct FakeDns : Resolver {
  std::map<std::string, std::vector<Mx>> mxs;
  std::map<std::string, std::vector<std::string>> a, aaaa;
  std::set<std::string> temp;
  Result mx(std::string const& n, std::vector<Mx>* out) override {
    out->clear();
    if (temp.count(n)) return Result::temp;
    if (mxs.count(n)) *out = mxs[n];
    return Result::ok;
  }
  Result ip4(std::string const& n, std::vector<std::string>* out) override {
    out->clear();
    if (temp.count(n)) return Result::temp;
    if (a.count(n)) *out = a[n];
    return Result::ok;
  }
  Result ip6(std::string const& n, std::vector<std::string>* out) override {
    out->clear();
    if (temp.count(n)) return Result::temp;
    if (aaaa.count(n)) *out = aaaa[n];
    return Result::ok;
  }
};

std::vector<std::string> ips(Resolution const& r) {
  std::vector<std::string> v;
  for (auto const& t : r.targets) v.push_back(t.ip);
  return v;
}

}  // namespace

TEST_CASE("route: resolve MX, then addresses, with fallbacks", "[remote][route]") {
  FakeDns dns;
  dns.mxs["example.com"] = {{20, "mx2.example.com"}, {10, "mx1.example.com"}};
  dns.a["mx1.example.com"] = {"192.0.2.1"};
  dns.aaaa["mx1.example.com"] = {"2001:db8::1", "::ffff:192.0.2.1"};
  dns.a["mx2.example.com"] = {"192.0.2.2"};
  dns.a["nomx.example"] = {"192.0.2.9"};
  SelfCheck self;
  self.names = {"me.example"};
  self.ips = {"192.0.2.200"};
  std::mt19937 rng(1);

  Resolution r = resolve(route_for(Routes(), "example.com"), dns, self, &rng);
  REQUIRE(r.status == Resolution::Status::ok);
  CHECK(ips(r) == std::vector<std::string>{"192.0.2.1", "2001:db8::1", "192.0.2.2"});
  CHECK(r.targets[2].pref == 20);

  r = resolve(route_for(Routes(), "nomx.example"), dns, self, &rng);
  CHECK(ips(r) == std::vector<std::string>{"192.0.2.9"});

  r = resolve(route_for(Routes(), "nothing.example"), dns, self, &rng);
  CHECK(r.status == Resolution::Status::perm);
  CHECK(r.text.find("#5.1.2") != std::string::npos);

  dns.temp.insert("tempfail.example");
  r = resolve(route_for(Routes(), "tempfail.example"), dns, self, &rng);
  CHECK(r.status == Resolution::Status::temp);

  // A relay is looked up by address, never by MX.
  Routes routes;
  routes.parse({"example.com:mx2.example.com:2525"});
  r = resolve(route_for(routes, "example.com"), dns, self, &rng);
  CHECK(ips(r) == std::vector<std::string>{"192.0.2.2"});
  CHECK(r.targets[0].port == 2525);
}

TEST_CASE("route: MX pointing back to me", "[remote][route]") {
  FakeDns dns;
  dns.mxs["loop.example"] = {{10, "me.example"}};
  dns.a["me.example"] = {"192.0.2.200"};
  dns.mxs["backup.example"] = {{5, "primary.example"}, {10, "ME.example."}, {20, "tertiary.example"}};
  dns.a["primary.example"] = {"192.0.2.5"};
  dns.a["tertiary.example"] = {"192.0.2.6"};
  dns.mxs["byaddr.example"] = {{10, "alias-of-me.example"}};
  dns.a["alias-of-me.example"] = {"192.0.2.200"};
  SelfCheck self;
  self.names = {"me.example"};
  self.ips = {"192.0.2.200"};
  std::mt19937 rng(1);

  Resolution r = resolve(route_for(Routes(), "loop.example"), dns, self, &rng);
  CHECK(r.status == Resolution::Status::perm);
  CHECK(r.text.find("#5.4.6") != std::string::npos);

  // Only MX hosts better than me are tried.
  r = resolve(route_for(Routes(), "backup.example"), dns, self, &rng);
  REQUIRE(r.status == Resolution::Status::ok);
  CHECK(ips(r) == std::vector<std::string>{"192.0.2.5"});

  r = resolve(route_for(Routes(), "byaddr.example"), dns, self, &rng);
  CHECK(r.status == Resolution::Status::perm);

  // Our own address is ours on port 25 only (tests run sinks on high ports).
  CHECK(self.is_me("x", "192.0.2.200", 25));
  CHECK_FALSE(self.is_me("x", "192.0.2.200", 2525));
  r = resolve(route_for(Routes(), "[192.0.2.200]"), dns, self, &rng);
  CHECK(r.status == Resolution::Status::perm);
}

namespace {

void put16(std::string* p, unsigned v) {
  p->push_back(char(v >> 8));
  p->push_back(char(v & 255));
}

void put_name(std::string* p, std::string const& dotted) {
  size_t i = 0;
  while (i < dotted.size()) {
    size_t e = dotted.find('.', i);
    if (e == std::string::npos) e = dotted.size();
    p->push_back(char(e - i));
    p->append(dotted, i, e - i);
    i = e + 1;
  }
  p->push_back('\0');
}

// A response to "qname qtype" holding answers (type, rdata).
std::string packet(std::string const& qname, unsigned qtype,
                   std::vector<std::pair<unsigned, std::string>> const& answers) {
  std::string p;
  put16(&p, 0x1234);
  put16(&p, 0x8180);
  put16(&p, 1);
  put16(&p, unsigned(answers.size()));
  put16(&p, 0);
  put16(&p, 0);
  put_name(&p, qname);
  put16(&p, qtype);
  put16(&p, 1);
  for (auto const& [type, rdata] : answers) {
    put16(&p, 0xc00c);  // the question's name
    put16(&p, type);
    put16(&p, 1);
    p.append("\0\0\x0e\x10", 4);
    put16(&p, unsigned(rdata.size()));
    p += rdata;
  }
  return p;
}

std::string mx_rdata(unsigned pref, std::string const& host) {
  std::string r;
  put16(&r, pref);
  put_name(&r, host);
  return r;
}

}  // namespace

TEST_CASE("route: DNS answer parsing (libowfat's packet parsers)", "[remote][route][dns]") {
  std::vector<Mx> mx;
  std::string p = packet("example.com", 15,
                         {{15, mx_rdata(20, "mx2.example.com")}, {15, mx_rdata(10, "mx1.example.com")},
                          {5, std::string("\3foo\0", 5)}});
  REQUIRE(qf::dns::mx_packet(p, &mx) == Result::ok);
  REQUIRE(mx.size() == 2);  // the CNAME record is skipped
  CHECK(mx[0].pref == 20);
  CHECK(mx[0].host == "mx2.example.com");
  CHECK(mx[1].pref == 10);
  CHECK(mx[1].host == "mx1.example.com");

  REQUIRE(qf::dns::mx_packet(packet("none.example", 15, {}), &mx) == Result::ok);
  CHECK(mx.empty());
  CHECK(qf::dns::mx_packet(std::string("\x12\x34\x81", 3), &mx) == Result::perm);  // truncated

  std::vector<std::string> a;
  p = packet("h.example", 1, {{1, std::string("\xc0\x00\x02\x01", 4)}, {1, std::string("\x7f\0\0\x01", 4)}});
  REQUIRE(qf::dns::ip4_packet(p, &a) == Result::ok);
  std::sort(a.begin(), a.end());  // libowfat shuffles addresses, as djbdns does
  CHECK(a == std::vector<std::string>{"127.0.0.1", "192.0.2.1"});

  std::string v6(16, '\0');
  v6[0] = char(0x20), v6[1] = char(0x01), v6[2] = char(0x0d), v6[3] = char(0xb8), v6[15] = 1;
  p = packet("h.example", 28, {{28, v6}});
  REQUIRE(qf::dns::ip6_packet(p, &a) == Result::ok);
  CHECK(a == std::vector<std::string>{"2001:db8::1"});
}
