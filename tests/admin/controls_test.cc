// ISC license.
#include "admin/controls.h"

#include <catch2/catch.hpp>

#include <set>

using namespace qf::admin;

TEST_CASE("showctl: every file once; values and defaults", "[admin]") {
  std::set<std::string> seen;
  for (auto const& c : control_specs()) CHECK(seen.insert(c.name).second);
  // files the sources read through the generic readers
  for (char const* n : {"me", "locals", "concurrencyremote", "remote_destination_recipient_limit",
                        "default_delivery_slot_cost", "timeoutconnect", "smtproutes", "queuedworkers",
                        "msgqueuelen", "idhost", "rcpthosts", "timeoutlocal", "queue_run_delay"})
    CHECK(find_control(n) != nullptr);
  CHECK(find_control("nosuchfile") == nullptr);
  ControlSpec const& cr = *find_control("concurrencyremote");
  CHECK(show_control(cr, false, {}) ==
        "concurrencyremote: default 100  (read by qmail-send)\n");
  CHECK(show_control(cr, true, {"7"}) == "concurrencyremote: set 7  (default 100; read by qmail-send)\n");
  ControlSpec const& lo = *find_control("locals");
  CHECK(show_control(lo, true, {"a.example", "b.example"}).find("locals: set 2 lines\n\ta.example\n\tb.example\n\t(default me; ") == 0);
}
