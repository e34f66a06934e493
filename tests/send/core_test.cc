// ISC license.
// The scheduler core on small, exact cases: Postfix's worked preemption
// example (postfix-mailman.md A.6), the feedback traces (A.4), backoff,
// triggers, dead destinations. The large cases are in sim_test.cc.
#include "send/core.h"

#include <catch2/catch.hpp>

#include "send/settings.h"
#include "sim.h"

using namespace qf;
using qf::sim::Sim;

namespace {

std::vector<std::string> rcpts(std::string const& dom, int n, std::string const& pre = "r") {
  std::vector<std::string> v;
  for (int i = 0; i < n; i++) v.push_back(pre + std::to_string(i) + "@" + dom);
  return v;
}

send::Settings one_slot(unsigned cost = 5, unsigned loan = 3, unsigned discount = 50) {
  send::Settings s = send::Settings::defaults();
  auto& t = s.t[send::kRemote];
  t.concurrency = 0;  // nothing goes out until the test opens the tap
  t.dest_recipient_limit = 1;
  t.dest_concurrency_limit = 0;
  t.initial_concurrency = 100;
  t.slot_cost = cost;
  t.slot_loan = loan;
  t.slot_discount = discount;
  return s;
}

// Runs A (40 entries, t=0), B (4, t=10), C (1, t=20) from t=30 through one
// slot; returns the delivery order as letters.
std::string worked_example(send::Settings s) {
  Sim sim(s);
  sim.fallback.latency = 0;
  std::map<uint64_t, char> name;
  std::string order;
  sim.on_deliver = [&](uint64_t id, std::vector<std::string> const&) { order += name[id]; };
  name[sim.inject("a@x", rcpts("dest.example", 40))] = 'A';
  sim.core.step(0);
  sim.now_ms = 10000;
  name[sim.inject("b@x", rcpts("dest.example", 4))] = 'B';
  sim.core.step(10);
  sim.now_ms = 20000;
  name[sim.inject("c@x", rcpts("dest.example", 1))] = 'C';
  sim.core.step(20);
  sim.now_ms = 30000;
  s.t[send::kRemote].concurrency = 1;
  sim.core.configure(s);
  sim.run(30500);
  REQUIRE(sim.violation == "");
  REQUIRE(sim.idle());
  return order;
}

}  // namespace

TEST_CASE("core: Postfix's worked preemption example, with the defaults", "[send][core]") {
  // A C A A A A A B B B B, then the 34 other A (postfix-mailman.md A.6)
  CHECK(worked_example(one_slot()) == "ACAAAAABBBB" + std::string(34, 'A'));
}

TEST_CASE("core: the worked example without loan and discount", "[send][core]") {
  CHECK(worked_example(one_slot(5, 0, 0)) ==
        std::string(5, 'A') + "C" + std::string(20, 'A') + "BBBB" + std::string(15, 'A'));
}

TEST_CASE("core: slot cost 0 turns preemption off (FIFO)", "[send][core]") {
  CHECK(worked_example(one_slot(0)) == std::string(40, 'A') + "BBBBC");
}

namespace {

// The window of a destination after each event, from the debug lines.
std::vector<int> windows(std::vector<std::string> const& log) {
  std::vector<int> w;
  for (auto const& l : log) {
    size_t p = l.find("concurrency ");
    size_t arrow = l.find(" -> ");
    if (p == std::string::npos || arrow == std::string::npos) continue;
    w.push_back(std::stoi(l.substr(arrow + 4)));
  }
  return w;
}

}  // namespace

TEST_CASE("core: slow start doubles the window per cohort, up to the limit", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  s.feedback_debug = true;
  Sim sim(s);
  sim.keep_log = true;
  sim.fallback.latency = 1000;
  for (int i = 0; i < 200; i++) sim.inject("s@x", {"r" + std::to_string(i) + "@d.example"});
  sim.run(100000);
  REQUIRE(sim.violation == "");
  auto w = windows(sim.log_lines);
  REQUIRE(w.size() >= 15);
  std::vector<int> want;
  for (int i = 6; i <= 20; i++) want.push_back(i);
  CHECK(std::vector<int>(w.begin(), w.begin() + 15) == want);
  // 5 at once, then 10, then 20: each second a cohort
  CHECK(sim.first_attempt_ms["d.example"] == 0);
}

TEST_CASE("core: three failures kill a destination (5 -> 3 -> 2 -> dead)", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  s.feedback_debug = true;
  Sim sim(s);
  sim.keep_log = true;
  sim.world["down.example"].outages.push_back({0, 1000000000});
  sim.world["down.example"].latency = 1000;
  for (int i = 0; i < 50; i++) sim.inject("s@x", {"r" + std::to_string(i) + "@down.example"});
  sim.run(60000, false);
  REQUIRE(sim.violation == "");
  auto w = windows(sim.log_lines);
  REQUIRE(w.size() >= 2);
  CHECK(w[0] == 3);
  CHECK(w[1] == 2);
  bool dead = false;
  for (auto const& l : sim.log_lines) dead = dead || l.find("down.example: dead for 300 s after 1.03 failed") != std::string::npos;
  CHECK(dead);
  // One cohort of attempts (the initial window), then nothing while it is dead.
  CHECK(sim.attempts_by_domain["down.example"] == 5);
  // Its mail was deferred without a slot: every recipient has a result.
  size_t suspended = 0;
  for (auto const& l : sim.log_lines) suspended += l.find("deferral: delivery_temporarily_suspended:") != std::string::npos;
  CHECK(suspended == 45);
}

TEST_CASE("core: feedback forms", "[send][core]") {
  send::Feedback f;
  REQUIRE(send::Feedback::parse("1", &f));
  CHECK(f.at(7) == 1);
  REQUIRE(send::Feedback::parse("1/concurrency", &f));
  CHECK(f.at(4) == Approx(0.25));
  REQUIRE(send::Feedback::parse("1/4", &f));
  CHECK(f.at(9) == Approx(0.25));
  CHECK_FALSE(send::Feedback::parse("2", &f));
  CHECK_FALSE(send::Feedback::parse("x", &f));
  CHECK_FALSE(send::Feedback::parse("1/sqrt_concurrency", &f));
}

TEST_CASE("core: durations and destination overrides", "[send][core]") {
  time_t t;
  REQUIRE(send::parse_duration("300", 's', &t));
  CHECK(t == 300);
  REQUIRE(send::parse_duration("5", 'd', &t));
  CHECK(t == 5 * 86400);
  REQUIRE(send::parse_duration("2h", 'd', &t));
  CHECK(t == 7200);
  CHECK_FALSE(send::parse_duration("5x", 's', &t));
  CHECK_FALSE(send::parse_duration("", 's', &t));
  send::DestOverride o;
  REQUIRE(send::parse_dest_override("Big.Example:50:100", &o));
  CHECK(o.pattern == "big.example");
  CHECK(o.concurrency_limit == 50);
  CHECK(o.recipient_limit == 100);
  REQUIRE(send::parse_dest_override(".example:3", &o));
  CHECK(o.recipient_limit == 0);
  CHECK_FALSE(send::parse_dest_override("nocolon", &o));
  CHECK_FALSE(send::parse_dest_override("x:many", &o));
}

TEST_CASE("core: a destination override gives a big provider its own limit", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  s.overrides.push_back({"big.example", 40, 0});
  Sim sim(s);
  sim.fallback.latency = 2000;
  for (int i = 0; i < 1500; i++) sim.inject("s@x", {"r" + std::to_string(i) + "@big.example"});
  for (int i = 0; i < 1500; i++) sim.inject("s@x", {"r" + std::to_string(i) + "@small.example"});
  sim.run(3600000);
  REQUIRE(sim.violation == "");
  REQUIRE(sim.idle());
  // twice the throughput: about half the time
  INFO("big " << sim.last_success_ms["big.example"] << " small " << sim.last_success_ms["small.example"]
       << " mean busy big " << sim.mean_busy("big.example", 0, sim.last_success_ms["big.example"]));
  CHECK(sim.last_success_ms["big.example"] < sim.last_success_ms["small.example"] * 3 / 4);
}

TEST_CASE("core: backoff doubles with the age, within its bounds", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  Sim sim(s);
  sim.world["later.example"].rcpt_4xx_percent = 100;
  sim.world["later.example"].latency = 10;
  sim.inject("s@x", {"a@later.example"});
  sim.run(int64_t(86400) * 1000, false);
  REQUIRE(sim.violation == "");
  REQUIRE(sim.backoffs.size() > 20);
  for (time_t b : sim.backoffs) {
    CHECK(b >= 300);
    CHECK(b <= 4000);
  }
  // 300, then ~ the age: 300 .. 600 .. 1200 .. 2400 .. then 4000 (less jitter)
  CHECK(sim.backoffs[0] == 300);
  CHECK(sim.backoffs[1] == 300);
  CHECK(sim.backoffs[2] >= 540);
  CHECK(sim.backoffs.back() >= 3600);
}

TEST_CASE("core: every deferral is reported once per delivery, success never", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  Sim sim(s);
  sim.world["later.example"].rcpt_4xx_percent = 100;
  sim.world["later.example"].latency = 10;
  uint64_t a = sim.inject("s@x", {"a@later.example", "b@later.example"});
  uint64_t b = sim.inject("s@x", {"c@ok.example"});
  sim.run(int64_t(700) * 1000, false);
  REQUIRE(sim.violation == "");
  CHECK(sim.msgs[b].finished);
  REQUIRE(!sim.statuses.empty());
  std::set<std::string> who;
  for (auto const& st : sim.statuses) {
    CHECK(st.id == a);
    CHECK(st.c == send::kRemote);
    CHECK(st.text.find("451") != std::string::npos);
    who.insert(st.addr);
  }
  CHECK(who == std::set<std::string>{"a@later.example", "b@later.example"});
  // Tried at 0, 300 and 600: both recipients each time, one call per delivery report.
  CHECK(sim.statuses.size() == 6);
  CHECK(sim.status_calls <= sim.statuses.size());
  CHECK(sim.statuses.back().when >= 600);
}

TEST_CASE("core: the lifetime turns deferrals into bounces", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  s.maximal_queue_lifetime = 3600;
  Sim sim(s);
  sim.keep_log = true;
  sim.world["later.example"].rcpt_4xx_percent = 100;
  uint64_t id = sim.inject("s@x", {"a@later.example"});
  sim.run(int64_t(86400) * 1000);
  CHECK(sim.idle());
  CHECK(sim.msgs[id].finished);
  CHECK(sim.done_ms[id] >= 3600 * 1000);
  CHECK(sim.done_ms[id] < 3600 * 1000 + 4000 * 1000);
  bool said = false;
  for (auto const& l : sim.log_lines) said = said || l.find("failure: Remote_host_said:_451_try_later/I'm_not_going") != std::string::npos;
  CHECK(said);
}

TEST_CASE("core: a dead destination wakes its mail when it comes back (F)", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  Sim sim(s);
  sim.world["down.example"].outages.push_back({0, 20000});
  sim.world["down.example"].latency = 100;
  for (int i = 0; i < 30; i++) sim.inject("s@x", {"r" + std::to_string(i) + "@down.example"});
  sim.run(30000, false);
  CHECK(sim.attempts_by_domain["down.example"] == 5);
  CHECK_FALSE(sim.idle());
  sim.core.trigger("F", sim.now());
  sim.run(35000);
  CHECK(sim.idle());  // not at the messages' retry times (300 s)
}

TEST_CASE("core: a dead destination is probed when its backoff ends", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  s.minimal_backoff = 60;
  s.maximal_backoff = 4000;
  s.queue_run_delay = 3600;  // the messages' own retry waits for a deferred scan
  Sim sim(s);
  sim.world["down.example"].outages.push_back({0, 30000});
  for (int i = 0; i < 30; i++) sim.inject("s@x", {"r" + std::to_string(i) + "@down.example"});
  sim.run(59000, false);
  CHECK(sim.attempts_by_domain["down.example"] == 5);
  sim.run(70000);
  // one probe at 60 s, then everything
  CHECK(sim.idle());
  CHECK(sim.attempts_by_domain["down.example"] == 5 + 30);
}

TEST_CASE("core: triggers A and D retry deferred mail at once", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  Sim sim(s);
  sim.world["later.example"].rcpt_4xx_percent = 100;
  sim.inject("s@x", {"a@later.example"});
  sim.run(5000, false);
  CHECK(sim.attempts_by_domain["later.example"] == 1);
  sim.world["later.example"].rcpt_4xx_percent = 0;
  sim.core.trigger("D", sim.now());  // D alone: the retry time holds
  sim.run(10000, false);
  CHECK(sim.attempts_by_domain["later.example"] == 1);
  sim.core.trigger("A", sim.now());  // A alone: for the next scan
  sim.run(15000, false);
  CHECK(sim.attempts_by_domain["later.example"] == 1);
  sim.core.trigger("D", sim.now());
  sim.run(20000);
  CHECK(sim.attempts_by_domain["later.example"] == 2);
  CHECK(sim.idle());
}

TEST_CASE("core: a corrupt message goes aside once", "[send][core]") {
  Sim sim(send::Settings::defaults());
  uint64_t id = sim.inject("s@x", {"a@d.example"});
  sim.msgs[id].corrupt = true;
  sim.inject("s@x", {"b@d.example"});
  sim.run(10000);
  CHECK(sim.idle());
  CHECK(sim.deliveries == 1);
}

TEST_CASE("core: VERP and the recipient limit shape the deliveries", "[send][core]") {
  send::Settings s = send::Settings::defaults();
  Sim sim(s);
  size_t max = 0, n = 0;
  sim.on_deliver = [&](uint64_t, std::vector<std::string> const& r) {
    max = std::max(max, r.size());
    n++;
  };
  sim.inject("list@x", rcpts("d.example", 120));
  sim.run(60000);
  CHECK(max == 50);
  CHECK(n == 3);
  max = n = 0;
  sim.inject("owner-@lists.x-@[]", rcpts("d.example", 7));
  sim.run(120000);
  CHECK(max == 1);
  CHECK(n == 7);
}
