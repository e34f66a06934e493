// ISC license.
#include "addr/rewrite.h"

#include <catch2/catch.hpp>

using qf::addr::Rewriter;

TEST_CASE("rewrite: locals, envnoathost, percenthack", "[rewrite]") {
  Rewriter r;
  r.set_envnoathost("Example.ORG");
  r.add_local("example.org");
  r.add_local("LocalHost");
  auto x = r.rewrite("joe");
  CHECK(x.local);
  CHECK(x.addr == "joe@Example.ORG");
  CHECK(r.rewrite("joe@EXAMPLE.org").local);
  CHECK(r.rewrite("joe@localhost").local);
  CHECK_FALSE(r.rewrite("joe@example.net").local);
  CHECK(r.rewrite("joe@example.net").addr == "joe@example.net");
  r.add_percenthack("relay.example.net");
  x = r.rewrite("joe%example.org@relay.example.net");
  CHECK(x.local);
  CHECK(x.addr == "joe@example.org");
  x = r.rewrite("a%b%relay.example.net@relay.example.net");
  CHECK(x.addr == "a@b");
}

TEST_CASE("rewrite: virtualdomains, longest match first", "[rewrite]") {
  Rewriter r;
  r.set_envnoathost("h");
  r.add_virtual("virt.example.com:vuser");
  r.add_virtual(".example.com:wild");
  r.add_virtual("joe@virt.example.com:joebox");
  r.add_virtual("except.example.com:");
  auto x = r.rewrite("ann@virt.example.com");
  CHECK(x.local);
  CHECK(x.addr == "vuser-ann@virt.example.com");
  x = r.rewrite("joe@Virt.Example.COM");
  CHECK(x.addr == "joebox-joe@Virt.Example.COM");
  x = r.rewrite("bob@deep.sub.example.com");
  CHECK(x.addr == "wild-bob@deep.sub.example.com");
  x = r.rewrite("bob@except.example.com");
  CHECK_FALSE(x.local);
  CHECK(x.addr == "bob@except.example.com");
  CHECK_FALSE(r.rewrite("bob@elsewhere.org").local);
  r.add_virtual(":catchall");
  CHECK(r.rewrite("bob@elsewhere.org").addr == "catchall-bob@elsewhere.org");
  CHECK(r.strip_virtual_prefix("vuser-ann@virt.example.com") == "ann@virt.example.com");
  CHECK(r.strip_virtual_prefix("other-ann@virt.example.com") == "other-ann@virt.example.com");
}
