// ISC license.
// A simulation for qmail-send's scheduler core (src/send/core.h): a queue in
// memory behind the core's Port, fake spawners, and destinations with a
// latency, a number of connections they tolerate, outages and 4xx throttling,
// on a virtual clock in milliseconds. It drives the same Core that ships and
// checks, at every delivery, that no limit is exceeded.
#ifndef QF_TESTS_SEND_SIM_H
#define QF_TESTS_SEND_SIM_H

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <random>
#include <stdexcept>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "addr/address.h"
#include "send/core.h"

namespace qf::sim {

using send::Channel;

/// How a destination behaves. Times in milliseconds.
struct Behaviour {
  int64_t latency = 100;       ///< one delivery's duration
  unsigned tolerate = 0;       ///< connections above this are refused at once (0: any)
  unsigned throttle = 0;       ///< deliveries above this get a 421 (0: none)
  std::vector<std::pair<int64_t, int64_t>> outages;  ///< [from, to): every connection refused
  unsigned rcpt_4xx_percent = 0;  ///< recipients refused for now, out of 100
  bool crash = false;             ///< the delivery process is killed by a signal
};

struct SimRcpt {
  std::string addr;
  bool done = false;
};

struct SimMessage {
  std::string sender;
  time_t birth = 0;
  std::vector<SimRcpt> rcpts[send::kChannels];
  bool pending[send::kChannels] = {false, false};
  bool corrupt = false;
  bool finished = false;
  bool held = false;    ///< hold/N exists
  bool warned = false;  ///< its delay warning was recorded
};

class Sim final : public send::Port {
 public:
  explicit Sim(send::Settings s, uint64_t seed = 7) : core(std::move(s), this, "", seed) {
    core.set_slots(send::kLocal, 500);
    core.set_slots(send::kRemote, 500);
  }

  // ---- the world ----
  std::map<std::string, Behaviour> world;  ///< by domain; unknown domains: defaults
  Behaviour fallback;
  int64_t now_ms = 0;
  uint64_t next_id = 1;

  /// Queues a message whose recipients all go to the remote channel.
  uint64_t inject(std::string const& sender, std::vector<std::string> const& rcpts,
                  Channel c = send::kRemote) {
    uint64_t id = next_id++;
    SimMessage& m = msgs[id];
    m.sender = sender;
    m.birth = now();
    for (auto const& r : rcpts) m.rcpts[c].push_back({r, false});
    m.pending[c] = true;
    unfinished_++;
    core.enqueue_new(id, c, now());
    return id;
  }
  /// Queues a message as a start-up scan finds one: due at due.
  uint64_t inject_deferred(std::string const& sender, std::vector<std::string> const& rcpts,
                           time_t birth, time_t due) {
    uint64_t id = next_id++;
    SimMessage& m = msgs[id];
    m.sender = sender;
    m.birth = birth;
    for (auto const& r : rcpts) m.rcpts[send::kRemote].push_back({r, false});
    m.pending[send::kRemote] = true;
    unfinished_++;
    core.enqueue_deferred(id, send::kRemote, due);
    return id;
  }

  time_t now() const { return time_t(now_ms / 1000); }

  /// Runs the world until until_ms, or until every message is finished.
  void run(int64_t until_ms, bool stop_idle = true) {
    size_t spins = 0;
    for (;;) {
      core.step(now());
      if (stop_idle && idle()) return;
      time_t w = core.next_wakeup(now());
      if (w <= now()) {
        // More to do this second (intake is bounded per turn): another turn.
        if (++spins > 1000000) throw std::runtime_error("simulation does not progress");
        continue;
      }
      spins = 0;
      int64_t next = std::min(until_ms, int64_t(w) * 1000);
      if (!events_.empty()) next = std::min(next, events_.top().at);
      if (next >= until_ms) {
        now_ms = std::max(now_ms, until_ms);
        return;
      }
      now_ms = std::max(now_ms, next);
      while (!events_.empty() && events_.top().at <= now_ms) {
        Event e = events_.top();
        events_.pop();
        finish(e);
      }
    }
  }
  /// Every message finished.
  bool idle() const { return unfinished_ == 0 && in_flight() == 0; }
  size_t in_flight() const { return flights_.size(); }

  // ---- what the checks look at ----
  send::Core core;
  std::map<uint64_t, SimMessage> msgs;
  std::string violation;  ///< the first broken limit, "" when none
  uint64_t deliveries = 0, refused = 0, throttled = 0, recipients_ok = 0;
  std::map<std::string, uint64_t> attempts_by_domain;  ///< connections tried per domain
  std::map<std::string, double> busy_integral;  ///< ms x concurrency per domain
  std::map<std::string, int64_t> first_attempt_ms, last_success_ms;
  std::map<uint64_t, int64_t> done_ms;  ///< when each message finished
  std::vector<time_t> backoffs;         ///< next - now of every deferral
  std::vector<std::string> log_lines;
  std::vector<uint64_t> poisoned;  ///< ids the core asked to hold as poison
  std::map<uint64_t, std::vector<send::Delayed>> warnings;  ///< delay warnings sent
  std::map<uint64_t, unsigned> warning_count;
  std::map<uint64_t, std::vector<std::string>> bounced;  ///< bounce records by message
  std::map<uint64_t, uint64_t> deliveries_of;  ///< deliveries handed out per message
  bool keep_log = false;
  /// Every defer_status action: (id, channel, time, address, text).
  struct Status {
    uint64_t id;
    Channel c;
    time_t when;
    std::string addr, text;
  };
  std::vector<Status> statuses;
  size_t status_calls = 0;
  std::function<void(uint64_t id, std::vector<std::string> const&)> on_deliver;

  // ---- Port ----
  send::LoadStatus load(uint64_t id, Channel c, uint64_t offset, size_t max, send::Loaded* out,
                        std::string* why) override {
    auto it = msgs.find(id);
    if (it == msgs.end() || !it->second.pending[c]) return send::LoadStatus::gone;
    SimMessage& m = it->second;
    if (m.corrupt) {
      *why = "simulated corruption";
      return send::LoadStatus::corrupt;
    }
    if (offset == 0 && m.held) return send::LoadStatus::held;
    out->warned = m.warned;
    out->sender = m.sender;
    out->birth = m.birth;
    auto& v = m.rcpts[c];
    size_t i = size_t(offset);
    for (; i < v.size() && out->rcpts.size() < max; i++)
      if (!v[i].done) out->rcpts.push_back({v[i].addr, i});
    out->next_offset = i;
    out->unread = 0;
    for (size_t k = i; k < v.size(); k++) out->unread += !v[k].done;
    return send::LoadStatus::ok;
  }
  void deliver(Channel c, unsigned slot, uint64_t id, std::string const& sender,
               std::vector<std::string> const& rcpts) override {
    auto const& cfg = core.settings();
    std::string dom = addr::domain_of(rcpts.at(0));
    Behaviour const& b = behaviour(dom);
    inflight_ch_[c]++;
    unsigned& busy = busy_[dom];
    account(dom);
    busy++;
    if (inflight_ch_[c] > cfg.t[c].concurrency) fail("channel concurrency " + std::to_string(inflight_ch_[c]));
    unsigned lim = cfg.t[c].dest_concurrency_limit;
    for (auto const& o : cfg.overrides)
      if (o.pattern == dom && o.concurrency_limit) lim = o.concurrency_limit;
    if (lim && busy > lim) fail("destination " + dom + " concurrency " + std::to_string(busy));
    unsigned rl = addr::is_verp(sender) ? 1 : cfg.t[c].dest_recipient_limit;
    if (rcpts.size() > rl) fail("recipients per delivery " + std::to_string(rcpts.size()));
    for (auto const& r : rcpts)
      if (addr::domain_of(r) != dom) fail("two domains in one delivery");
    deliveries++;
    deliveries_of[id]++;
    attempts_by_domain[dom]++;
    if (!first_attempt_ms.count(dom)) first_attempt_ms[dom] = now_ms;
    if (on_deliver) on_deliver(id, rcpts);
    Event e;
    e.c = c;
    e.slot = slot;
    e.id = id;
    e.dom = dom;
    e.n = rcpts.size();
    bool out = false;
    for (auto const& [a, z] : b.outages) out = out || (now_ms >= a && now_ms < z);
    if (b.crash) {
      e.kind = 'C';
      e.text = "qmail-local crashed.\n";
      e.at = now_ms + 1;
    } else if (out || (b.tolerate && busy > b.tolerate)) {
      e.kind = 'S';
      e.text = "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n";
      e.at = now_ms + 1;
      refused++;
    } else if (b.throttle && busy > b.throttle) {
      e.kind = 'S';
      e.text = "Remote host said: 421 too many connections\n";
      e.at = now_ms + 5;
      throttled++;
    } else {
      e.kind = 'K';
      e.at = now_ms + b.latency;
      for (size_t i = 0; i < rcpts.size(); i++) e.z.push_back(b.rcpt_4xx_percent && rng_() % 100 < b.rcpt_4xx_percent);
    }
    e.seq = seq_++;
    flights_.insert({c, slot});
    events_.push(e);
  }
  void mark_done(uint64_t id, Channel c, uint64_t offset) override {
    auto& r = msgs.at(id).rcpts[c].at(size_t(offset));
    if (r.done) fail("recipient marked done twice");
    r.done = true;
  }
  void defer_status(uint64_t id, Channel c, time_t when,
                    std::vector<std::pair<std::string, std::string>> const& rcpts) override {
    status_calls++;
    for (auto const& [a, t] : rcpts) statuses.push_back({id, c, when, a, t});
  }
  bool bounce_record(uint64_t id, std::string_view rcpt, std::string_view) override {
    bounced[id].emplace_back(rcpt);
    return true;
  }
  void poison(uint64_t id, std::string const&) override {
    poisoned.push_back(id);
    msgs.at(id).held = true;
  }
  void delay_warning(uint64_t id, std::string const&, std::vector<send::Delayed> const& r) override {
    warnings[id] = r;
    warning_count[id]++;
    msgs.at(id).warned = true;
  }
  void deferred(uint64_t id, Channel c, time_t next) override {
    SimMessage& m = msgs.at(id);
    backoffs.push_back(next - now());
    (void)m;
    (void)c;
  }
  void finished(uint64_t id, Channel c) override {
    SimMessage& m = msgs.at(id);
    if (!m.pending[c]) return;
    for (auto const& r : m.rcpts[c])
      if (!r.done) fail("finished with a pending recipient");
    m.pending[c] = false;
    if (!m.pending[0] && !m.pending[1] && !m.finished) {
      m.finished = true;
      done_ms[id] = now_ms;
      unfinished_--;
    }
  }
  void corrupt(uint64_t id, std::string const&) override {
    SimMessage& m = msgs.at(id);
    m.pending[0] = m.pending[1] = false;
    if (!m.finished) {
      m.finished = true;
      unfinished_--;
    }
  }
  void log(std::string_view line) override {
    if (keep_log) log_lines.emplace_back(line);
  }

  double mean_busy(std::string const& dom, int64_t from, int64_t to) {
    account(dom);
    return busy_integral[dom] / double(to - from);
  }

 private:
  struct Event {
    int64_t at = 0;
    uint64_t seq = 0;
    Channel c = send::kRemote;
    unsigned slot = 0;
    uint64_t id = 0;
    std::string dom;
    size_t n = 0;
    char kind = 'K';
    std::string text;
    std::vector<bool> z;
    bool operator>(Event const& o) const { return at > o.at || (at == o.at && seq > o.seq); }
  };
  Behaviour const& behaviour(std::string const& dom) const {
    auto it = world.find(dom);
    return it == world.end() ? fallback : it->second;
  }
  void account(std::string const& dom) {
    auto& last = last_change_[dom];
    busy_integral[dom] += double(now_ms - last) * busy_[dom];
    last = now_ms;
  }
  void fail(std::string const& what) {
    if (violation.empty()) violation = what + " at " + std::to_string(now_ms) + " ms";
  }
  void finish(Event const& e) {
    flights_.erase({e.c, e.slot});
    inflight_ch_[e.c]--;
    account(e.dom);
    busy_[e.dom]--;
    std::vector<spawn::Result> res;
    spawn::Verdict v = spawn::Verdict::ok;
    if (e.kind == 'S' || e.kind == 'C') {
      v = e.kind == 'S' ? spawn::Verdict::site : spawn::Verdict::crash;
      res.assign(e.n, {'Z', e.text});
    } else {
      for (size_t i = 0; i < e.n; i++) {
        if (e.z[i]) {
          res.push_back({'Z', "Remote host said: 451 try later\n"});
        } else {
          res.push_back({'K', "ok\n"});
          recipients_ok++;
        }
      }
      last_success_ms[e.dom] = e.at;
    }
    core.report(e.c, e.slot, v, res, now());
  }

  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::set<std::pair<int, unsigned>> flights_;
  std::map<std::string, unsigned> busy_;
  std::map<std::string, int64_t> last_change_;
  unsigned inflight_ch_[send::kChannels] = {0, 0};
  uint64_t seq_ = 0;
  size_t unfinished_ = 0;
  std::mt19937_64 rng_{99};
};

}  // namespace qf::sim

#endif
