// ISC license.
#include "addr/address.h"

#include <catch2/catch.hpp>

#include "addr/routes.h"

using namespace qf::addr;

TEST_CASE("address: lower, domain, local destination", "[addr]") {
  CHECK(lower("Joe@Example.COM") == "joe@example.com");
  CHECK(domain_of("Joe@Example.COM") == "example.com");
  CHECK(domain_of("a@b@C") == "c");
  CHECK(domain_of("nohost") == "");
  CHECK(local_destination("Joe-List-x@Example.com") == "joe@example.com");
  CHECK(local_destination("joe@example.com") == "joe@example.com");
  CHECK(local_destination("-x@example.com") == "-x@example.com");  // no user before the '-'
  CHECK(local_destination("vdom-box@virt.example") == "vdom@virt.example");
}

TEST_CASE("address: VERP", "[addr]") {
  CHECK(is_verp("owner-@lists.example-@[]"));
  CHECK_FALSE(is_verp("owner@lists.example"));
  CHECK(verp_sender("owner-@lists.example-@[]", "joe@example.com") == "owner-joe=example.com@lists.example");
  CHECK(verp_sender("plain@host", "box@rcpthost") == "plain@host");
}

TEST_CASE("routes: destinations share a key when they share a next hop", "[addr]") {
  Routes r;
  r.parse({"a.example:relay.example", ".b.example:[10.0.0.1]:2525", ":smarthost.example"});
  CHECK(destination_key(r, "a.example") != destination_key(r, "other.example"));
  CHECK(destination_key(r, "x.b.example") == destination_key(r, "y.b.example"));
  CHECK(route_for(r, "x.b.example").name() == "[10.0.0.1]:2525");
  CHECK(route_for(r, "zzz.test").name() == "smarthost.example");
  Routes none;
  CHECK(route_for(none, "Example.NET").name() == "example.net");
  CHECK(destination_key(none, "example.net") != destination_key(none, "example.org"));
}
