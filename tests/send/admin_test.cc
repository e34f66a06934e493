// ISC license.
// The scheduler core's administrative decisions on the simulator's clock:
// held mail (hold/N, qmail-qsuper -h/-H), paused destinations
// (control/paused), poison (crashes counted per message), expiry by the
// administrator (qmail-qsuper -e) and the one delay warning.
#include <catch2/catch.hpp>

#include "send/core.h"
#include "sim.h"

using namespace qf;
using qf::sim::Sim;

namespace {

std::vector<std::string> rcpts(std::string const& dom, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; i++) v.push_back("r" + std::to_string(i) + "@" + dom);
  return v;
}

constexpr int64_t kHour = 3600 * 1000;

}  // namespace

TEST_CASE("held mail is never tried until released", "[send][admin]") {
  Sim sim(send::Settings::defaults());
  uint64_t id = sim.next_id;
  sim.msgs[id].held = true;  // hold/N exists before the message is loaded
  REQUIRE(sim.inject("s@x", rcpts("a.example", 3)) == id);
  uint64_t other = sim.inject("s@x", rcpts("b.example", 2));
  sim.run(10 * kHour, false);
  REQUIRE(sim.deliveries_of[id] == 0);
  REQUIRE(sim.msgs[other].finished);
  REQUIRE(sim.core.held_ids() == std::vector<uint64_t>{id});
  // A release whose hold/N is still there changes nothing.
  sim.core.release(id, sim.now());
  sim.run(11 * kHour, false);
  REQUIRE(sim.deliveries_of[id] == 0);
  // hold/N gone and the note received: tried at once.
  sim.msgs[id].held = false;
  int64_t at = sim.now_ms;
  REQUIRE(sim.core.release(id, sim.now()));
  sim.run(at + 1000);
  REQUIRE(sim.violation == "");
  REQUIRE(sim.msgs[id].finished);
}

TEST_CASE("a release note wakes a parked message at once", "[send][admin]") {
  Sim sim(send::Settings::defaults());
  uint64_t id = sim.next_id;
  sim.msgs[id].held = true;
  sim.inject("s@x", rcpts("a.example", 1));
  sim.run(60 * 1000, false);
  REQUIRE(sim.core.held_ids() == std::vector<uint64_t>{id});
  sim.msgs[id].held = false;
  REQUIRE(sim.core.release(id, sim.now()));
  sim.run(61 * 1000);
  REQUIRE(sim.msgs[id].finished);
  REQUIRE(sim.core.held_ids().empty());
}

TEST_CASE("a lost release note is repaired by the recheck", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  Sim sim(s);
  uint64_t id = sim.next_id;
  sim.msgs[id].held = true;
  sim.inject("s@x", rcpts("a.example", 1));
  sim.run(60 * 1000, false);
  sim.msgs[id].held = false;  // released, but qmail-send never heard of it
  sim.run(int64_t(s.maximal_backoff + s.queue_run_delay + 120) * 1000);
  REQUIRE(sim.msgs[id].finished);
}

TEST_CASE("holding an active message stops it at once; deliveries in flight finish", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  s.t[send::kRemote].dest_recipient_limit = 1;
  s.t[send::kRemote].initial_concurrency = 1;
  s.t[send::kRemote].dest_concurrency_limit = 1;
  Sim sim(s);
  sim.fallback.latency = 10000;
  uint64_t id = sim.inject("s@x", rcpts("a.example", 10));
  sim.run(5000);  // one delivery in flight
  REQUIRE(sim.deliveries_of[id] == 1);
  REQUIRE(sim.in_flight() == 1);
  sim.msgs[id].held = true;
  sim.core.hold(id, sim.now());
  sim.run(kHour, false);  // nothing more is handed out...
  REQUIRE(sim.in_flight() == 0);  // ...and the one in flight finished
  REQUIRE(sim.deliveries_of[id] == 1);
  REQUIRE(sim.msgs[id].rcpts[send::kRemote][0].done);
  REQUIRE(sim.core.held_ids() == std::vector<uint64_t>{id});
  sim.msgs[id].held = false;
  sim.core.release(id, sim.now());
  sim.run(2 * kHour);
  REQUIRE(sim.violation == "");  // no recipient delivered twice
  REQUIRE(sim.msgs[id].finished);
  REQUIRE(sim.deliveries_of[id] == 10);
}

TEST_CASE("paused_by matches channels, names and suffixes", "[send][admin]") {
  std::vector<std::string> p = {"remote:a.example", "local:.dept", "remote:.b.example"};
  REQUIRE(send::paused_by(p, send::kRemote, "a.example"));
  REQUIRE_FALSE(send::paused_by(p, send::kLocal, "a.example"));
  REQUIRE(send::paused_by(p, send::kRemote, "mx.b.example"));
  REQUIRE_FALSE(send::paused_by(p, send::kRemote, "b.example"));
  REQUIRE(send::paused_by(p, send::kLocal, "x.dept"));
  REQUIRE(send::paused_by({"remote"}, send::kRemote, "anything"));
  REQUIRE_FALSE(send::paused_by({"remote"}, send::kLocal, "anything"));
  REQUIRE_FALSE(send::paused_by({"remotex:a"}, send::kRemote, "a"));
}

TEST_CASE("a paused destination starts nothing until resumed", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  s.paused = {"remote:a.example"};
  Sim sim(s);
  uint64_t a = sim.inject("s@x", rcpts("a.example", 5));
  uint64_t b = sim.inject("s@x", rcpts("b.example", 5));
  sim.run(5 * kHour, false);
  REQUIRE(sim.deliveries_of[a] == 0);
  REQUIRE(sim.msgs[b].finished);
  REQUIRE_FALSE(sim.msgs[a].finished);
  s.paused.clear();
  sim.core.configure(s);  // control/paused reread (a note, or HUP)
  int64_t at = sim.now_ms;
  sim.run(at + 1000);  // resumed: woken at once, not at its next retry
  REQUIRE(sim.violation == "");
  REQUIRE(sim.msgs[a].finished);
}

TEST_CASE("pausing a busy destination lets the deliveries in flight finish", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  s.t[send::kRemote].dest_recipient_limit = 1;
  s.t[send::kRemote].initial_concurrency = 2;
  s.t[send::kRemote].dest_concurrency_limit = 2;
  Sim sim(s);
  sim.fallback.latency = 10000;
  uint64_t id = sim.inject("s@x", rcpts("a.example", 10));
  sim.run(5000);
  REQUIRE(sim.deliveries_of[id] == 2);
  s.paused = {"remote"};
  sim.core.configure(s);
  sim.run(3 * kHour, false);
  REQUIRE(sim.deliveries_of[id] == 2);
  REQUIRE(sim.in_flight() == 0);
  s.paused.clear();
  sim.core.configure(s);
  sim.run(4 * kHour);
  REQUIRE(sim.violation == "");
  REQUIRE(sim.msgs[id].finished);
  REQUIRE(sim.deliveries_of[id] == 10);
}

TEST_CASE("a message whose delivery crashes poison_limit times is held", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  s.poison_limit = 3;
  Sim sim(s);
  sim.world["crash.example"].crash = true;
  uint64_t bad = sim.inject("s@x", rcpts("crash.example", 1));
  uint64_t good = sim.inject("s@x", rcpts("ok.example", 1));
  sim.run(48 * kHour, false);
  REQUIRE(sim.poisoned == std::vector<uint64_t>{bad});
  REQUIRE(sim.deliveries_of[bad] == 3);
  REQUIRE(sim.msgs[good].finished);
  REQUIRE(sim.core.held_ids() == std::vector<uint64_t>{bad});
}

TEST_CASE("temporary failures are not crashes; a limit of 0 never poisons", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  s.poison_limit = 0;
  Sim sim(s);
  sim.world["crash.example"].crash = true;
  sim.world["slow.example"].rcpt_4xx_percent = 100;
  uint64_t a = sim.inject("s@x", rcpts("crash.example", 1));
  uint64_t b = sim.inject("s@x", rcpts("slow.example", 1));
  sim.run(24 * kHour, false);
  REQUIRE(sim.poisoned.empty());
  REQUIRE(sim.deliveries_of[a] > 3);
  REQUIRE(sim.deliveries_of[b] > 3);
}

TEST_CASE("delay_warning_due", "[send][admin]") {
  REQUIRE_FALSE(send::delay_warning_due(1000, 5000, 0, false));     // off
  REQUIRE_FALSE(send::delay_warning_due(1000, 4599, 3600, false));  // too early
  REQUIRE(send::delay_warning_due(1000, 4600, 3600, false));
  REQUIRE_FALSE(send::delay_warning_due(1000, 9000, 3600, true));   // once
  REQUIRE_FALSE(send::delay_warning_due(send::kExpiredBirth, 9000, 3600, false));
  REQUIRE_FALSE(send::delay_warning_due(0, 9000, 3600, false));
}

TEST_CASE("one delay warning per message, after delay_warning_time", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  s.delay_warning_time = 4 * 3600;
  Sim sim(s);
  sim.now_ms = 1000 * 1000;  // born after the epoch
  sim.world["slow.example"].rcpt_4xx_percent = 100;
  uint64_t id = sim.inject("s@x", rcpts("slow.example", 2));
  sim.run(3 * kHour, false);
  REQUIRE(sim.warning_count.count(id) == 0);
  sim.run(30 * kHour, false);
  REQUIRE(sim.warning_count[id] == 1);
  REQUIRE(sim.warnings[id].size() == 2);
  REQUIRE(sim.warnings[id][0].text.find("451") != std::string::npos);
  REQUIRE(sim.deliveries_of[id] > 5);  // tried many times, warned once
}

TEST_CASE("no delay warning when delay_warning_time is 0", "[send][admin]") {
  Sim sim(send::Settings::defaults());
  sim.now_ms = 1000 * 1000;
  sim.world["slow.example"].rcpt_4xx_percent = 100;
  sim.inject("s@x", rcpts("slow.example", 2));
  sim.run(30 * kHour, false);
  REQUIRE(sim.warning_count.empty());
}

TEST_CASE("an expired message bounces every recipient without an attempt", "[send][admin]") {
  Sim sim(send::Settings::defaults());
  uint64_t id = sim.inject_deferred("s@x", rcpts("a.example", 3), send::kExpiredBirth, 0);
  sim.run(kHour);
  REQUIRE(sim.msgs[id].finished);
  REQUIRE(sim.deliveries_of[id] == 0);
  REQUIRE(sim.bounced[id].size() == 3);
}

TEST_CASE("expiring an active message bounces what was not handed out", "[send][admin]") {
  send::Settings s = send::Settings::defaults();
  s.t[send::kRemote].dest_recipient_limit = 1;
  s.t[send::kRemote].initial_concurrency = 1;
  s.t[send::kRemote].dest_concurrency_limit = 1;
  Sim sim(s);
  sim.fallback.latency = 10000;
  uint64_t id = sim.inject("s@x", rcpts("a.example", 5));
  sim.run(5000);
  REQUIRE(sim.deliveries_of[id] == 1);
  sim.core.expire(id, sim.now());
  sim.run(kHour);
  REQUIRE(sim.violation == "");
  REQUIRE(sim.msgs[id].finished);
  REQUIRE(sim.deliveries_of[id] == 1);
  REQUIRE(sim.bounced[id].size() == 4);
}
