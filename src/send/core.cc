// ISC license.
#include "send/core.h"

#include <algorithm>
#include <cmath>

#include "addr/address.h"
#include "send/log.h"
#include "sys/fs.h"

namespace qf::send {

namespace {

constexpr time_t kSysfail = 123;     // qmail's SLEEP_SYSFAIL: retry after a system call failed
constexpr size_t kMaxRead = 5000;    // recipients per read (Postfix's hard cap)
constexpr size_t kIntakePerStep = 64;  // jobs loaded per turn, so reports are read in between
constexpr size_t kRefillLimit = 100;   // default_recipient_refill_limit
constexpr char const* kTooLong =
    "I'm not going to try again; this message has been in the queue too long.\n";

std::string fmt_double(double x) {
  char b[32];
  snprintf(b, sizeof b, "%.2f", x);
  return b;
}

}  // namespace

char const* channel_name(Channel c) { return c == kLocal ? "local" : "remote"; }

bool Feedback::parse(std::string_view s, Feedback* f) {
  std::string v;
  for (char c : s)
    if (c != ' ' && c != '\t') v.push_back(c);
  Feedback r;
  size_t slash = v.find('/');
  std::string num = v.substr(0, slash), den = slash == std::string::npos ? "" : v.substr(slash + 1);
  char* end = nullptr;
  r.value = strtod(num.c_str(), &end);
  if (num.empty() || *end) return false;
  if (den == "concurrency") {
    r.per_concurrency = true;
  } else if (!den.empty()) {
    double d = strtod(den.c_str(), &end);
    if (*end || d <= 0) return false;
    r.value /= d;
  }
  if (!(r.value >= 0 && r.value <= 1)) return false;
  *f = r;
  return true;
}

Settings Settings::defaults() {
  Settings s;
  s.t[kLocal].concurrency = 10;
  // Postfix's local_destination_concurrency_limit is 2, for its mailbox
  // locks; Maildir needs none, and qmail-local costs a fork and an exec, so
  // the channel's limit alone holds, as in qmail.
  s.t[kLocal].dest_concurrency_limit = 0;
  s.t[kLocal].dest_recipient_limit = 1;    // local_destination_recipient_limit
  s.t[kRemote].concurrency = 100;
  return s;
}

// ---- state ----

struct Core::Dest {
  std::string key, name;
  Channel ch = kLocal;
  int window = 0;
  double success = 0, failure = 0, cohorts = 0;
  unsigned busy = 0;
  unsigned limit = 0, rcpt_limit = 1;
  bool dead = false, probing = false;
  bool paused = false;  // by control/paused: nothing starts, its mail waits
  time_t dead_until = 0, backoff = 0;
  std::string reason;
  std::set<std::pair<double, Job*>> jobs;  // jobs with entries here, in job-list order
  size_t todo = 0;                         // entries waiting
  std::vector<std::pair<Key, time_t>> waiting;  // deferred jobs with a recipient here
  bool in_ready = false;
  double ready_key = 0;
};

namespace {
struct Entry {
  std::vector<uint32_t> rcpts;
};
struct Rcpt {
  std::string addr;
  uint64_t offset = 0;
  std::string dest;  // key of its destination
};
}  // namespace

struct Core::Job {
  uint64_t id = 0;
  Channel ch = kLocal;
  std::string sender;
  time_t birth = 0, queued = 0;
  bool verp = false, dying = false, deferred = false, corrupt = false;
  bool held = false;     // closes into the parked set, not the deferred heap
  bool expired = false;  // qmail-qsuper -e: every recipient bounces without an attempt
  bool warned = false;   // its delay warning is sent
  std::vector<Delayed> delays;  // deferred recipients, for the delay warning
  uint64_t next_offset = 0;
  size_t unread = 0;  // pending recipients not read yet
  std::vector<Rcpt> rcpts;
  size_t rcpt_count = 0;  // read, not yet finished
  size_t rcpt_limit = 0;
  struct Peer {
    Dest* dest = nullptr;
    std::deque<Entry> todo;
  };
  std::vector<std::unique_ptr<Peer>> peers;
  std::unordered_map<std::string, Peer*> peer_of;
  size_t rr = 0;
  unsigned inflight = 0;
  std::vector<std::string> deferred_on;  // destinations of deferred recipients
  // qmgr_job.c
  long read_entries = 0, selected_entries = 0;
  long slots_available = 0, slots_used = 0;
  Job* parent = nullptr;
  std::vector<Job*> children;
  int level = -1;  // -1: not on the job list
  Job *prev = nullptr, *next = nullptr;
  double label = 0;
  bool has_entries() const { return selected_entries < read_entries; }
};

namespace {
struct Flight {
  bool used = false;
  Core::Job* job = nullptr;
  Core::Dest* dest = nullptr;
  std::vector<uint32_t> rcpts;
  std::vector<std::string> dids;
};

// Messages waiting on one channel, by due time (a min-heap of 16 bytes each).
class DueHeap {
 public:
  void push(uint64_t id, time_t due) { h_.push({due, id}); }
  bool empty() const { return h_.empty(); }
  size_t size() const { return h_.size(); }
  time_t next_due() const { return h_.top().due; }
  std::pair<uint64_t, time_t> pop() {
    auto e = h_.top();
    h_.pop();
    return {e.id, e.due};
  }

 private:
  struct E {
    time_t due;
    uint64_t id;
    bool operator>(E const& o) const { return due > o.due || (due == o.due && id > o.id); }
  };
  std::priority_queue<E, std::vector<E>, std::greater<E>> h_;
};
}  // namespace

struct Core::Transport {
  Channel ch = kLocal;
  unsigned slots = 0, used = 0;
  std::vector<Flight> flights;
  std::vector<unsigned> free_slots;
  std::unordered_map<std::string, std::unique_ptr<Dest>> dests;
  std::set<std::pair<double, Dest*>> ready;  // by the label of their first job
  Job *head = nullptr, *tail = nullptr, *current = nullptr;
  Job *cand = nullptr, *cand_current = nullptr;
  time_t cand_time = 0;
  size_t rcpts_in_core = 0;
  size_t extra_used = 0;
  size_t active = 0;
  DueHeap deferred;               // on disk, by retry time
  std::deque<uint64_t> fresh;     // new mail (Postfix's incoming)
  std::deque<uint64_t> due;       // deferred mail whose time has come
  bool fresh_turn = true;
  unsigned concurrency(Settings const& s) const { return std::min(s.t[ch].concurrency, slots); }
};

Core::Core(Settings s, Port* port, std::string did_suffix, uint64_t seed)
    : cfg_(std::move(s)), port_(port), did_suffix_(std::move(did_suffix)), rng_(seed) {
  for (int c = 0; c < kChannels; c++) {
    t_[c] = std::make_unique<Transport>();
    t_[c]->ch = Channel(c);
  }
}

Core::~Core() = default;

void Core::configure(Settings s) {
  cfg_ = std::move(s);
  time_t now = last_now_;  // the time of the latest event
  for (auto& t : t_) {
    std::vector<Dest*> paused, resumed;
    for (auto& [k, d] : t->dests) {
      bool was = d->paused;
      apply_limits(*t, *d);
      if (d->paused && !was) paused.push_back(d.get());
      if (!d->paused && was) resumed.push_back(d.get());
    }
    for (Dest* d : resumed) {
      port_->log(std::string("info: ") + channel_name(d->ch) + " " + logsafe(d->name) + ": resumed");
      wake(*d);
    }
    for (Dest* d : paused) {
      port_->log(std::string("info: ") + channel_name(d->ch) + " " + logsafe(d->name) + ": paused");
      defer_todo(*d, now);
    }
  }
}

bool paused_by(std::vector<std::string> const& patterns, Channel c, std::string_view name) {
  std::string_view ch = channel_name(c);
  for (std::string_view p : patterns) {
    if (p == ch) return true;
    if (p.size() <= ch.size() || p.substr(0, ch.size()) != ch || p[ch.size()] != ':') continue;
    std::string_view d = p.substr(ch.size() + 1);
    if (d == name) return true;
    if (!d.empty() && d[0] == '.' && name.size() > d.size() &&
        name.substr(name.size() - d.size()) == d)
      return true;
  }
  return false;
}

bool delay_warning_due(time_t birth, time_t now, time_t delay_warning_time, bool warned) {
  if (warned || delay_warning_time <= 0 || birth <= kExpiredBirth) return false;
  return now - birth >= delay_warning_time;
}

void Core::set_slots(Channel c, unsigned n) {
  Transport& t = *t_[c];
  // Slots only grow: a report for a slot beyond a lowered count still lands.
  for (unsigned s = unsigned(t.flights.size()); s < n; s++) t.free_slots.push_back(s);
  if (t.flights.size() < n) t.flights.resize(n);
  std::sort(t.free_slots.rbegin(), t.free_slots.rend());  // lowest slot first, from the back
  t.slots = std::max(t.slots, n);
}

void Core::enqueue_new(uint64_t id, Channel c, time_t) { t_[c]->fresh.push_back(id); }

void Core::enqueue_deferred(uint64_t id, Channel c, time_t due) { t_[c]->deferred.push(id, due); }

bool Core::active(uint64_t id, Channel c) const { return jobs_.count(key(id, c)) > 0; }

bool Core::busy() const {
  for (auto const& t : t_)
    if (t->used) return true;
  return false;
}

size_t Core::expected(Channel c, unsigned slot) const {
  Transport const& t = *t_[c];
  if (slot >= t.flights.size() || !t.flights[slot].used) return 0;
  return t.flights[slot].rcpts.size();
}

std::string Core::did_text() { return fmt_u64(next_did_++) + did_suffix_; }

void Core::debug(std::string const& line) {
  if (cfg_.feedback_debug) port_->log("info: scheduler: " + line);
}

time_t Core::lifetime(std::string const& sender) const {
  bool bounce = sender.empty() || sender == "#@[]";
  return bounce ? std::min(cfg_.bounce_queue_lifetime, cfg_.maximal_queue_lifetime)
                : cfg_.maximal_queue_lifetime;
}

// Postfix's backoff: the time since arrival, between the bounds, so the
// interval doubles. Jitter (up to a tenth less) spreads retries that a burst
// made simultaneous; it never leaves the bounds.
time_t Core::backoff(time_t age) {
  time_t lo = std::max<time_t>(cfg_.minimal_backoff, 1);
  time_t hi = std::max(cfg_.maximal_backoff, lo);
  time_t d = std::clamp(age, lo, hi);
  time_t j = d / 10;
  if (j > 0) d -= time_t(rng_() % uint64_t(j + 1));
  return std::clamp(d, lo, hi);
}

// ---- intake (leaky bucket, fairness) ----

void Core::scan_deferred(time_t now, bool all) {
  for (auto& t : t_) {
    while (!t->deferred.empty() && (all || t->deferred.next_due() <= now)) {
      auto [id, due] = t->deferred.pop();
      Key k = key(id, t->ch);
      auto range = stale_.equal_range(k);
      bool stale = false;
      for (auto it = range.first; it != range.second; ++it)
        if (it->second == due) {
          stale_.erase(it);
          stale = true;
          break;
        }
      if (!stale) {
        // A parked job's recheck: loaded again, parked again while still held.
        auto h = held_.find(k);
        if (h != held_.end() && h->second == due) held_.erase(h);
        t->due.push_back(id);
      }
    }
    // Waiting lists keep only jobs whose retry is still to come.
    for (auto it = t->dests.begin(); it != t->dests.end();) {
      Dest& d = *it->second;
      ++it;
      std::erase_if(d.waiting, [&](auto const& w) { return all || w.second <= now; });
      maybe_drop(d);
    }
  }
  if (all) stale_.clear();
  next_scan_ = now + std::max<time_t>(cfg_.queue_run_delay, 1);
}

size_t Core::budget(Transport& t, Job const* j) const {
  TransportSettings const& ts = cfg_.t[t.ch];
  size_t global = cfg_.message_recipient_limit > rcpts_in_core_ ? cfg_.message_recipient_limit - rcpts_in_core_ : 0;
  size_t local = ts.recipient_limit > t.rcpts_in_core ? ts.recipient_limit - t.rcpts_in_core : 0;
  // A preempting job that is not fully read may use the extra pool.
  if (j && j->level > 0 && t.extra_used < ts.extra_recipient_limit)
    local += (ts.extra_recipient_limit - t.extra_used + 1) / 2;
  size_t b = std::max(std::min(global, local), std::max<size_t>(cfg_.message_recipient_minimum, 1));
  return std::min(b, kMaxRead);
}

void Core::intake(time_t now) {
  size_t loaded = 0;
  bool progress = true;
  while (progress && loaded < kIntakePerStep) {
    progress = false;
    for (auto& tp : t_) {
      Transport& t = *tp;
      if (jobs_.size() >= cfg_.message_active_limit) return;
      // Deferred mail fills four fifths of the active set at most: the rest
      // is new mail's, which a backlog would otherwise keep waiting for room.
      bool f = !t.fresh.empty();
      bool d = !t.due.empty() && jobs_.size() < cfg_.message_active_limit - cfg_.message_active_limit / 5;
      if (!f && !d) continue;
      // One from each in turn while both have work (qmgr_loop).
      bool take_fresh = f && (t.fresh_turn || !d);
      t.fresh_turn = !take_fresh;
      uint64_t id;
      if (take_fresh) {
        id = t.fresh.front();
        t.fresh.pop_front();
      } else {
        id = t.due.front();
        t.due.pop_front();
      }
      progress = true;
      if (jobs_.count(key(id, t.ch))) continue;  // already in memory
      load_job(t, id, now);
      loaded++;
      // A full active set takes new mail first when room frees up (qmgr_loop).
      if (jobs_.size() >= cfg_.message_active_limit) t.fresh_turn = true;
    }
  }
}

void Core::load_job(Transport& t, uint64_t id, time_t now) {
  Loaded l;
  std::string why;
  size_t max = budget(t, nullptr);
  LoadStatus st = port_->load(id, t.ch, 0, max, &l, &why);
  switch (st) {
    case LoadStatus::gone: port_->finished(id, t.ch); return;
    case LoadStatus::corrupt:
      port_->corrupt(id, why);
      drop_message(id);
      return;
    case LoadStatus::trouble:
      // A file that stays unreadable is not retried past the message's lifetime.
      if (l.birth && now >= l.birth + lifetime(l.sender)) {
        port_->corrupt(id, why + ", and the message is past its lifetime");
        drop_message(id);
        return;
      }
      port_->log("warning: " + why + "; will try again later");
      t.deferred.push(id, now + kSysfail);
      return;
    case LoadStatus::held: park(t, id, now); return;
    case LoadStatus::ok: break;
  }
  auto jp = std::make_unique<Job>();
  Job& j = *jp;
  j.id = id;
  j.ch = t.ch;
  j.sender = std::move(l.sender);
  j.birth = l.birth;
  j.queued = now;
  j.verp = addr::is_verp(j.sender);
  j.expired = j.birth == kExpiredBirth;
  j.dying = j.expired || now >= j.birth + lifetime(j.sender);
  j.warned = l.warned || warned_.count(id);
  j.next_offset = l.next_offset;
  j.unread = l.unread;
  j.rcpt_limit = max;
  jobs_[key(id, t.ch)] = std::move(jp);
  t.active++;
  link(t, j);
  assign(j, std::move(l.rcpts), now);
  maybe_close(j, now);
}

void Core::refill(Job& j, time_t now) {
  if (!j.unread || j.corrupt || stopping_) return;
  Transport& t = *t_[j.ch];
  size_t max = budget(t, &j);
  Loaded l;
  std::string why;
  LoadStatus st = port_->load(j.id, j.ch, j.next_offset, max, &l, &why);
  if (st != LoadStatus::ok) {
    // The rest stays in the file: the job closes deferred and retries.
    port_->log("warning: " + (why.empty() ? std::string("unable to read more recipients") : why) +
               "; will try again later");
    j.unread = 0;
    j.deferred = true;
    return;
  }
  j.next_offset = l.next_offset;
  j.unread = l.unread;
  if (j.level < 0) link(t, j);  // revived (qmgr_job_obtain)
  assign(j, std::move(l.rcpts), now);
}

Core::Dest& Core::dest_named(Transport& t, std::string const& dkey, std::string const& name) {
  auto& slot = t.dests[dkey];
  if (!slot) {
    slot = std::make_unique<Dest>();
    slot->key = dkey;
    slot->name = name;
    slot->ch = t.ch;
    apply_limits(t, *slot);
    slot->window = int(std::min<unsigned>(cfg_.t[t.ch].initial_concurrency ? cfg_.t[t.ch].initial_concurrency : 1,
                                          slot->limit ? slot->limit : ~0u));
  }
  return *slot;
}

Core::Dest& Core::dest_for(Transport& t, std::string const& rcpt) {
  if (t.ch == kLocal) {
    std::string k = addr::local_destination(rcpt);
    return dest_named(t, k, k);
  }
  addr::Route r = addr::route_for(cfg_.routes, addr::domain_of(rcpt));
  return dest_named(t, r.key(), r.name());
}

void Core::apply_limits(Transport& t, Dest& d) {
  TransportSettings const& ts = cfg_.t[t.ch];
  d.limit = ts.dest_concurrency_limit;
  d.paused = paused_by(cfg_.paused, t.ch, d.name);
  d.rcpt_limit = std::max(ts.dest_recipient_limit, 1u);
  // The longest matching pattern wins: the name, then ".suffix"es, then "".
  DestOverride const* best = nullptr;
  for (auto const& o : cfg_.overrides) {
    bool hit = o.pattern.empty() || o.pattern == d.name ||
               (o.pattern[0] == '.' && d.name.size() > o.pattern.size() &&
                d.name.compare(d.name.size() - o.pattern.size(), o.pattern.size(), o.pattern) == 0);
    if (hit && (!best || o.pattern.size() > best->pattern.size())) best = &o;
  }
  if (best && best->concurrency_limit) d.limit = best->concurrency_limit;
  if (best && best->recipient_limit) d.rcpt_limit = best->recipient_limit;
  if (d.limit && d.window > int(d.limit)) d.window = int(d.limit);
  refresh(d);
}

void Core::assign(Job& j, std::vector<QueuedRcpt>&& in, time_t now) {
  Transport& t = *t_[j.ch];
  // Recipients of one destination go together (Postfix sorts by domain).
  std::vector<std::pair<Dest*, uint32_t>> order;
  order.reserve(in.size());
  for (auto& q : in) {
    Dest& d = dest_for(t, q.addr);
    uint32_t r = uint32_t(j.rcpts.size());
    j.rcpts.push_back({std::move(q.addr), q.offset, d.key});
    order.emplace_back(&d, r);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](auto const& a, auto const& b) { return a.first->key < b.first->key; });
  j.rcpt_count += order.size();
  t.rcpts_in_core += order.size();
  rcpts_in_core_ += order.size();
  for (auto [dp, r] : order) {
    Dest& d = *dp;
    if (d.dead || d.paused || j.expired) {
      suspend(j, r, d, now);
      continue;
    }
    auto& peer = j.peer_of[d.key];
    if (!peer) {
      j.peers.push_back(std::make_unique<Job::Peer>());
      peer = j.peers.back().get();
    }
    peer->dest = &d;
    unsigned lim = j.verp ? 1 : d.rcpt_limit;
    if (peer->todo.empty() || peer->todo.back().rcpts.size() >= lim) {
      if (peer->todo.empty()) {
        d.jobs.insert({j.label, &j});
      }
      peer->todo.push_back({});
      j.read_entries++;
      d.todo++;
    }
    peer->todo.back().rcpts.push_back(r);
    refresh(d);
  }
  // More entries change who may preempt whom (qmgr_job_obtain resets it too).
  t.cand_current = nullptr;
}

// A recipient whose destination is dead: deferred at once, without a slot,
// logged as a delivery so that every "starting delivery" has its result.
void Core::suspend(Job& j, uint32_t r, Dest& d, time_t now) {
  std::string did = did_text();
  Rcpt& rc = j.rcpts[r];
  port_->log(log_starting(did, j.id, j.ch == kLocal, rc.addr));
  std::string text = j.expired ? std::string()
                   : d.paused ? "delivery suspended: destination paused by the administrator"
                              : "delivery temporarily suspended: " + d.reason;
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (j.dying) {
    text += kTooLong;
    port_->log(log_result(did, 'D', text));
    count_result(j.ch, 'D');
    if (port_->bounce_record(j.id, rc.addr, text))
      port_->mark_done(j.id, j.ch, rc.offset);
    else
      j.deferred = true;
  } else {
    port_->log(log_result(did, 'Z', text));
    count_result(j.ch, 'Z');
    port_->defer_status(j.id, j.ch, now, {{rc.addr, text}});
    j.deferred = true;
    note_delay(j, rc.addr, text);
    if (std::find(j.deferred_on.begin(), j.deferred_on.end(), d.key) == j.deferred_on.end())
      j.deferred_on.push_back(d.key);
  }
  delivered_++;
  finish_rcpt(j, r);
}

void Core::finish_rcpt(Job& j, uint32_t r) {
  Transport& t = *t_[j.ch];
  j.rcpts[r].addr.clear();
  j.rcpts[r].addr.shrink_to_fit();
  if (j.rcpt_count) j.rcpt_count--;
  if (t.rcpts_in_core) t.rcpts_in_core--;
  if (rcpts_in_core_) rcpts_in_core_--;
}

void Core::maybe_close(Job& j, time_t now) {
  if (j.inflight || j.has_entries()) return;
  if (j.unread && !j.corrupt) {
    refill(j, now);  // reads at least one recipient, or gives up on the rest for now
    if (j.has_entries()) return;
  }
  if (j.level >= 0) retire(*t_[j.ch], j);
  close_job(j, now);
}

void Core::close_job(Job& j, time_t now) {
  Transport& t = *t_[j.ch];
  uint64_t id = j.id;
  Channel ch = j.ch;
  if (j.level >= 0) unlink(t, j);
  for (auto const& p : j.peers) {
    if (p->todo.empty()) continue;
    Dest& d = *p->dest;  // only when a close cuts a job short (a corrupt message)
    d.jobs.erase({j.label, &j});
    d.todo -= std::min(d.todo, p->todo.size());
    p->todo.clear();
    refresh(d);
  }
  t.rcpts_in_core -= std::min(t.rcpts_in_core, j.rcpt_count);
  rcpts_in_core_ -= std::min(rcpts_in_core_, j.rcpt_count);
  bool corrupt = j.corrupt, deferred = j.deferred || j.unread, held = j.held;
  time_t birth = j.birth;
  std::vector<std::string> on = std::move(j.deferred_on);
  bool warn = deferred && !held && !corrupt && delay_warning_due(birth, now, cfg_.delay_warning_time, j.warned) &&
              !warned_.count(id) && !j.delays.empty();
  std::string sender = j.sender;
  std::vector<Delayed> delays = std::move(j.delays);
  // Gone from memory before the Port hears of it: finishing the message
  // asks whether any of its jobs is still active.
  t.active--;
  jobs_.erase(key(id, ch));
  bool other_active = jobs_.count(key(id, ch == kLocal ? kRemote : kLocal)) > 0;
  // Crashes count over the message's attempts: forgotten once it is done.
  if (!other_active && (corrupt || !deferred)) crashes_.erase(id);
  if (corrupt) {
    if (!other_active) warned_.erase(id);
    return;
  }
  if (held) {
    park(t, id, now);
    return;
  }
  if (warn) {
    port_->delay_warning(id, sender, delays);
    if (other_active) warned_.insert(id);
  } else if (!other_active) {
    warned_.erase(id);
  }
  if (deferred) {
    time_t next = now + backoff(now - birth);
    port_->deferred(id, ch, next);
    t.deferred.push(id, next);
    for (auto const& dk : on) {
      auto it = t.dests.find(dk);
      if (it != t.dests.end()) it->second->waiting.push_back({key(id, ch), next});
    }
  } else {
    port_->finished(id, ch);
  }
}

void Core::note_delay(Job& j, std::string const& addr, std::string const& text) {
  if (j.warned || cfg_.delay_warning_time <= 0 || j.delays.size() >= 1000) return;
  j.delays.push_back({addr, text});
}

// A held job waits outside the active set; its entry in the deferred heap
// is only a recheck, in case the note of its release was lost.
void Core::park(Transport& t, uint64_t id, time_t now) {
  time_t recheck = now + std::max<time_t>({cfg_.maximal_backoff, cfg_.queue_run_delay, 1});
  Key k = key(id, t.ch);
  auto it = held_.find(k);
  if (it != held_.end()) stale_.insert({k, it->second});
  held_[k] = recheck;
  t.deferred.push(id, recheck);
}

// Takes the entries not handed out off every destination: they stay pending
// on disk (hold), or bounce now (expire).
void Core::pull_entries(Job& j, bool bounce, time_t now) {
  for (auto const& p : j.peers) {
    if (p->todo.empty()) continue;
    Dest& d = *p->dest;
    d.jobs.erase({j.label, &j});
    d.todo -= std::min(d.todo, p->todo.size());
    j.read_entries -= long(p->todo.size());
    auto todo = std::move(p->todo);
    p->todo.clear();
    refresh(d);
    if (bounce)
      for (auto& e : todo)
        for (uint32_t r : e.rcpts) suspend(j, r, d, now);
  }
}

void Core::hold(uint64_t id, time_t now) {
  for (int c = 0; c < kChannels; c++) {
    auto it = jobs_.find(key(id, Channel(c)));
    if (it == jobs_.end()) continue;
    Job& j = *it->second;
    if (j.corrupt || j.held) continue;
    j.held = true;
    j.deferred = true;
    Transport& t = *t_[c];
    pull_entries(j, false, now);
    j.unread = 0;
    if (j.level >= 0) retire(t, j);
    if (!j.inflight) close_job(j, now);
  }
}

bool Core::release(uint64_t id, time_t now) {
  (void)now;
  bool any = false;
  for (int c = 0; c < kChannels; c++) {
    Key k = key(id, Channel(c));
    auto it = held_.find(k);
    if (it == held_.end()) continue;
    stale_.insert({k, it->second});
    held_.erase(it);
    t_[c]->due.push_back(id);
    any = true;
  }
  return any;
}

namespace {
// The message ids of a map keyed by id * 2 + channel, sorted, each once.
template <class Map>
std::vector<uint64_t> message_ids(Map const& m) {
  std::vector<uint64_t> v;
  for (auto const& e : m) v.push_back(e.first / 2);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}
}  // namespace

std::vector<uint64_t> Core::held_ids() const { return message_ids(held_); }

std::vector<uint64_t> Core::active_ids() const { return message_ids(jobs_); }

void Core::wake_message(uint64_t id, Channel c, time_t due, time_t now) {
  (void)now;
  Key k = key(id, c);
  if (jobs_.count(k) || held_.count(k)) return;
  stale_.insert({k, due});
  t_[c]->due.push_back(id);
}

void Core::expire(uint64_t id, time_t now) {
  for (int c = 0; c < kChannels; c++) {
    auto it = jobs_.find(key(id, Channel(c)));
    if (it == jobs_.end()) continue;
    Job& j = *it->second;
    if (j.corrupt) continue;
    j.birth = kExpiredBirth;
    j.dying = j.expired = true;
    pull_entries(j, true, now);
    Transport& t = *t_[c];
    if (!j.has_entries() && !j.unread && j.level >= 0) retire(t, j);
    maybe_close(j, now);
  }
}

void Core::drop_message(uint64_t id) {
  for (int c = 0; c < kChannels; c++) {
    auto it = jobs_.find(key(id, Channel(c)));
    if (it == jobs_.end()) continue;
    Job& j = *it->second;
    j.corrupt = true;
    Transport& t = *t_[c];
    for (auto const& p : j.peers) {
      if (p->todo.empty()) continue;
      Dest& d = *p->dest;
      d.jobs.erase({j.label, &j});
      d.todo -= std::min(d.todo, p->todo.size());
      j.read_entries -= long(p->todo.size());
      p->todo.clear();
      refresh(d);
    }
    j.unread = 0;
    if (j.level >= 0) retire(t, j);
    if (!j.inflight) close_job(j, 0);
  }
}

// ---- destinations (qmgr_queue.c, qmgr_feedback.c) ----

bool Core::ready(Dest const& d) const { return !d.dead && d.window > int(d.busy) && !d.jobs.empty(); }

void Core::refresh(Dest& d) {
  Transport& t = *t_[d.ch];
  if (d.in_ready) {
    t.ready.erase({d.ready_key, &d});
    d.in_ready = false;
  }
  if (ready(d)) {
    d.ready_key = d.jobs.begin()->first;
    t.ready.insert({d.ready_key, &d});
    d.in_ready = true;
  }
}

void Core::maybe_drop(Dest& d) {
  if (d.busy || !d.jobs.empty() || !d.waiting.empty() || d.dead) return;
  Transport& t = *t_[d.ch];
  if (d.in_ready) t.ready.erase({d.ready_key, &d});
  std::string k = d.key;  // not a reference into the node being erased
  t.dests.erase(k);
}

void Core::positive(Dest& d, time_t now) {
  if (d.dead || d.probing) {
    revive(d, "a delivery succeeded", false, now);
    return;
  }
  d.cohorts = 0;
  TransportSettings const& ts = cfg_.t[d.ch];
  int lim = int(d.limit);
  int before = d.window;
  if ((lim == 0 || d.window < lim) && d.window < int(d.busy) + int(std::max(ts.initial_concurrency, 1u))) {
    double g = ts.positive.at(d.window);
    d.success += g;
    while (d.success + g / 2 >= 1) {
      d.window++;
      d.success -= 1;
      d.failure = 0;
    }
    if (lim && d.window > lim) d.window = lim;
  }
  if (d.window != before)
    debug(std::string(channel_name(d.ch)) + " " + d.name + ": concurrency " + fmt_u64(uint64_t(before)) +
          " -> " + fmt_u64(uint64_t(d.window)) + " after a success (busy " + fmt_u64(d.busy) + ")");
}

void Core::negative(Dest& d, std::string const& why, time_t now) {
  if (d.dead) return;
  TransportSettings const& ts = cfg_.t[d.ch];
  int before = d.window;
  d.cohorts += 1.0 / std::max(d.window, 1);
  if (ts.failed_cohort_limit > 0 && d.cohorts >= ts.failed_cohort_limit) {
    kill(d, why, now);
    return;
  }
  double f = ts.negative.at(d.window);
  d.failure -= f;
  while (d.failure - f / 2 < 0) {
    d.window--;
    d.success = 0;
    d.failure += 1;
  }
  if (d.window < 1) d.window = 1;
  if (d.window != before)
    debug(std::string(channel_name(d.ch)) + " " + d.name + ": concurrency " + fmt_u64(uint64_t(before)) +
          " -> " + fmt_u64(uint64_t(d.window)) + " after a failure of the destination (failed cohorts " +
          fmt_double(d.cohorts) + ")");
}

void Core::kill(Dest& d, std::string const& why, time_t now) {
  d.dead = true;
  d.probing = false;
  d.window = 0;
  d.success = d.failure = 0;
  d.reason = why;
  while (!d.reason.empty() && (d.reason.back() == '\n' || d.reason.back() == ' ')) d.reason.pop_back();
  // Consecutive deaths double the time, as the backoff of a message.
  d.backoff = d.backoff ? d.backoff * 2 : 0;
  d.backoff = backoff(d.backoff);
  d.dead_until = now + d.backoff;
  dead_timers_.insert({d.dead_until, {int(d.ch), d.key}});
  debug(std::string(channel_name(d.ch)) + " " + d.name + ": dead for " + fmt_u64(uint64_t(d.backoff)) +
        " s after " + fmt_double(d.cohorts) + " failed cohort(s): " + logsafe(d.reason));
  refresh(d);
  defer_todo(d, now);
}

// Every entry waiting for a dead destination is deferred now (qmgr_defer_todo).
void Core::defer_todo(Dest& d, time_t now) {
  std::vector<Job*> jobs;
  for (auto const& [label, j] : d.jobs) jobs.push_back(j);
  d.jobs.clear();
  for (Job* j : jobs) {
    auto it = j->peer_of.find(d.key);
    if (it == j->peer_of.end()) continue;
    auto todo = std::move(it->second->todo);
    it->second->todo.clear();
    for (auto& e : todo) {
      j->read_entries--;
      d.todo -= std::min<size_t>(d.todo, 1);
      for (uint32_t r : e.rcpts) suspend(*j, r, d, now);
    }
  }
  refresh(d);
  for (Job* j : jobs) {
    if (j->level >= 0 && !j->has_entries() && !j->unread) retire(*t_[j->ch], *j);
    maybe_close(*j, now);
  }
}

void Core::revive(Dest& d, char const* why, bool probe, time_t now) {
  bool was_dead = d.dead;
  d.dead = false;
  d.success = d.failure = d.cohorts = 0;
  unsigned init = std::max(cfg_.t[d.ch].initial_concurrency, 1u);
  if (d.limit) init = std::min(init, d.limit);
  if (probe) {
    // One delivery at a time tells whether it lives; a failure kills it again.
    d.probing = true;
    d.window = std::max(1, int(d.busy));
  } else {
    d.probing = false;
    d.window = std::max(int(init), int(d.busy));
    d.backoff = 0;
  }
  debug(std::string(channel_name(d.ch)) + " " + d.name + (probe ? ": probing after its death" : ": alive: ") +
        (probe ? std::string() : std::string(why)));
  (void)was_dead;
  (void)now;
  refresh(d);
  if (probe) {
    // The oldest waiting job goes first, as the probe.
    if (!d.waiting.empty()) {
      auto w = d.waiting.front();
      d.waiting.erase(d.waiting.begin());
      if (!jobs_.count(w.first)) {
        t_[d.ch]->due.push_front(w.first / 2);
        stale_.insert(w);
      }
    }
  } else {
    wake(d);
  }
}

void Core::wake(Dest& d) {
  Transport& t = *t_[d.ch];
  for (auto const& w : d.waiting) {
    if (jobs_.count(w.first)) continue;
    auto r = stale_.equal_range(w.first);
    if (std::any_of(r.first, r.second, [&](auto const& e) { return e.second == w.second; })) continue;
    t.due.push_back(w.first / 2);
    stale_.insert(w);
  }
  d.waiting.clear();
}

// ---- the job list and preemption (qmgr_job.c) ----

long Core::max_entries(Job const& j) const { return j.read_entries + long(j.unread); }

bool Core::selectable(Job const& j) const {
  for (auto const& p : j.peers)
    if (!p->todo.empty() && ready(*p->dest)) return true;
  return false;
}

void Core::relabel(Transport& t, Job& j, double label) {
  std::vector<Dest*> ds;
  for (auto const& p : j.peers)
    if (!p->todo.empty()) {
      p->dest->jobs.erase({j.label, &j});
      ds.push_back(p->dest);
    }
  j.label = label;
  for (Dest* d : ds) {
    d->jobs.insert({j.label, &j});
    refresh(*d);
  }
  (void)t;
}

// Appends by activation time (the list is FIFO but for preemption); a job
// read again after it retired goes back among the jobs of its time.
void Core::link(Transport& t, Job& j) {
  Job* after = t.tail;
  while (after && (after->parent != nullptr || after->queued > j.queued)) after = after->prev;
  Job* before = after ? after->next : t.head;
  j.prev = after;
  j.next = before;
  if (after) after->next = &j; else t.head = &j;
  if (before) before->prev = &j; else t.tail = &j;
  j.level = 0;
  double lo = after ? after->label : (before ? before->label - 2048 : 0);
  double hi = before ? before->label : lo + 2048;
  if (!(hi - lo > 1e-9)) {
    // No room between the labels: number the whole list afresh.
    double x = 0;
    for (Job* p = t.head; p; p = p->next) relabel(t, *p, x += 1024);
  } else {
    relabel(t, j, (lo + hi) / 2);
  }
  if (!t.current) t.current = &j;
  t.cand_current = nullptr;
}

void Core::unlink(Transport& t, Job& j) {
  if (j.level < 0) return;
  for (Job* ch : j.children) ch->parent = nullptr;
  j.children.clear();
  if (t.current == &j) t.current = j.next;
  if (t.cand == &j || t.cand_current == &j) t.cand_current = nullptr;
  if (j.prev) j.prev->next = j.next; else t.head = j.next;
  if (j.next) j.next->prev = j.prev; else t.tail = j.prev;
  j.prev = j.next = nullptr;
  j.level = -1;
}

void Core::pop(Transport& t, Job& j) {
  long cost = cfg_.t[t.ch].slot_cost;
  Job* parent = j.parent;
  if (parent && j.level == parent->level + 1) parent->slots_available -= j.slots_used * cost;
  if (parent) {
    std::erase(parent->children, &j);
    j.parent = nullptr;
  }
  for (Job* c : j.children) {
    c->parent = parent;
    if (parent) parent->children.push_back(c);
  }
  j.children.clear();
  j.level = 0;
  t.cand_current = nullptr;
}

void Core::retire(Transport& t, Job& j) {
  if (j.level > 0) pop(t, j);
  unlink(t, j);
}

Core::Job* Core::candidate(Transport& t, Job& c, time_t now) {
  if (t.cand_current == &c && (t.cand_time == now || t.cand == nullptr)) return t.cand;
  long cost = cfg_.t[t.ch].slot_cost;
  long max_slots = (c.read_entries - c.selected_entries + c.slots_available) / cost;
  Job* best = nullptr;
  double best_score = 0;
  if (max_slots > 0) {
    for (Job* j = c.next; j; j = j->next) {
      if (!j->children.empty() || !selectable(*j)) continue;
      long total = max_entries(*j);
      long needed = total - j->selected_entries;
      long delay = long(now - j->queued) + 1;
      if (needed > 0 && needed <= max_slots) {
        double score = double(delay) / double(total);
        if (score > best_score) {
          best_score = score;
          best = j;
        }
      }
      if (delay <= best_score && j->level == 0) break;  // nothing later can beat it
    }
  }
  t.cand = best;
  t.cand_current = &c;
  t.cand_time = now;
  return best;
}

Core::Job* Core::preempt(Transport& t, Job& c, time_t now) {
  TransportSettings const& ts = cfg_.t[t.ch];
  long cost = ts.slot_cost;
  if (c.slots_available <= 0 || max_entries(c) < long(ts.minimum_slots) * cost) return &c;
  Job* j = candidate(t, c, now);
  if (!j) return &c;
  long expected = max_entries(*j) - j->selected_entries;
  // The loan lets the preemption come early; the full price is paid anyway.
  if (double(c.slots_available / cost + long(ts.slot_loan)) <
      double(expected) * double(100 - std::min(ts.slot_discount, 100u)) / 100.0)
    return &c;
  if (j->level > 0) pop(t, *j);
  // j goes right before c on the list; c's slots pay for it.
  if (j->prev) j->prev->next = j->next; else t.head = j->next;
  if (j->next) j->next->prev = j->prev; else t.tail = j->prev;
  Job* before = c.prev;
  j->prev = before;
  j->next = &c;
  if (before) before->next = j; else t.head = j;
  c.prev = j;
  double lo = before ? before->label : c.label - 2048;
  if (!(c.label - lo > 1e-9)) {
    double x = 0;
    for (Job* p = t.head; p; p = p->next) relabel(t, *p, x += 1024);
  } else {
    relabel(t, *j, (lo + c.label) / 2);
  }
  j->parent = &c;
  c.children.push_back(j);
  j->level = c.level + 1;
  t.current = j;
  t.cand_current = nullptr;
  c.slots_available -= expected * cost;
  j->slots_used = -expected;
  debug(std::string(channel_name(t.ch)) + ": msg " + fmt_u64(j->id) + " (" + fmt_u64(uint64_t(expected)) +
        " deliveries) preempts msg " + fmt_u64(c.id) + " (" + fmt_u64(uint64_t(max_entries(c) - c.selected_entries)) +
        " left), level " + fmt_u64(uint64_t(j->level)));
  return j;
}

// ---- deliveries ----

bool Core::dispatch(Transport& t, time_t now) {
  if (t.used >= t.concurrency(cfg_) || t.free_slots.empty() || t.ready.empty()) return false;
  Job* c = t.current;
  if (c && c->level < 0) c = nullptr;
  if (c && cfg_.t[t.ch].slot_cost >= 2) preempt(t, *c, now);
  // The first job on the list that has an entry for a destination with room.
  Dest* first = t.ready.begin()->second;
  Job& j = *first->jobs.begin()->second;
  Job::Peer* peer = nullptr;
  for (size_t n = 0; n < j.peers.size(); n++) {
    size_t i = (j.rr + n) % j.peers.size();
    Job::Peer* p = j.peers[i].get();
    if (!p->todo.empty() && ready(*p->dest)) {
      peer = p;
      j.rr = i + 1;
      break;
    }
  }
  if (!peer) return false;  // cannot happen: first is ready with j on it
  Dest& d = *peer->dest;
  Entry e = std::move(peer->todo.front());
  peer->todo.pop_front();
  d.todo--;
  if (peer->todo.empty()) d.jobs.erase({j.label, &j});
  j.selected_entries++;
  j.slots_available++;
  j.slots_used++;
  if (&j != t.cand_current) t.cand_current = nullptr;
  t.current = &j;
  unsigned slot = t.free_slots.back();
  t.free_slots.pop_back();
  Flight& f = t.flights[slot];
  f.used = true;
  f.job = &j;
  f.dest = &d;
  f.rcpts = std::move(e.rcpts);
  f.dids.clear();
  std::vector<std::string> rcpts;
  for (uint32_t r : f.rcpts) {
    f.dids.push_back(did_text());
    rcpts.push_back(j.rcpts[r].addr);
    port_->log(log_starting(f.dids.back(), j.id, t.ch == kLocal, j.rcpts[r].addr));
  }
  d.busy++;
  t.used++;
  j.inflight++;
  refresh(d);
  std::string sender = j.verp ? addr::verp_sender(j.sender, rcpts[0]) : j.sender;
  port_->deliver(t.ch, slot, j.id, sender, rcpts);
  if (!j.has_entries()) {
    if (j.unread) refill(j, now);
    if (!j.has_entries() && !j.unread && j.level >= 0) retire(t, j);
  }
  return true;
}

void Core::report(Channel c, unsigned slot, spawn::Verdict v, std::vector<spawn::Result>& results,
                  time_t now) {
  Transport& t = *t_[c];
  if (slot >= t.flights.size() || !t.flights[slot].used) {
    port_->log("warning: internal error: delivery report out of range");
    return;
  }
  Flight f = std::move(t.flights[slot]);
  t.flights[slot] = Flight();
  t.free_slots.push_back(slot);
  t.used--;
  Job& j = *f.job;
  Dest& d = *f.dest;
  d.busy--;
  std::string site_text;
  std::vector<std::pair<std::string, std::string>> deferrals;
  for (size_t i = 0; i < f.rcpts.size(); i++) {
    spawn::Result res = i < results.size() ? results[i] : spawn::Result{'Z', ""};
    uint32_t r = f.rcpts[i];
    Rcpt& rc = j.rcpts[r];
    if (res.status == 'Z' && j.dying) {
      res.status = 'D';
      res.text += kTooLong;
    }
    port_->log(log_result(f.dids[i], res.status, res.text));
    delivered_++;
    count_result(c, res.status);
    if (j.corrupt) {
      finish_rcpt(j, r);
      continue;
    }
    switch (res.status) {
      case 'K': port_->mark_done(j.id, c, rc.offset); break;
      case 'D':
        if (port_->bounce_record(j.id, rc.addr, res.text))
          port_->mark_done(j.id, c, rc.offset);
        else
          j.deferred = true;
        break;
      default:
        j.deferred = true;
        deferrals.emplace_back(rc.addr, res.text);
        note_delay(j, rc.addr, res.text);
        if (site_text.empty()) site_text = res.text;
        if (std::find(j.deferred_on.begin(), j.deferred_on.end(), d.key) == j.deferred_on.end())
          j.deferred_on.push_back(d.key);
    }
    finish_rcpt(j, r);
  }
  if (!deferrals.empty()) port_->defer_status(j.id, c, now, deferrals);
  // Feedback first: a destination that dies defers its other jobs' entries,
  // and this job must still be in flight then so that it is closed only here.
  bool poisoned = false;
  if (v == spawn::Verdict::crash && !j.corrupt) {
    // A crash says nothing of the destination; counted against the message.
    unsigned n = ++crashes_[j.id];
    if (cfg_.poison_limit && n >= cfg_.poison_limit) {
      port_->poison(j.id, "delivery process crashed " + fmt_u64(n) + " times");
      poisoned = true;
    }
  }
  if (v == spawn::Verdict::site)
    negative(d, site_text, now);
  else if (v == spawn::Verdict::ok)
    positive(d, now);
  refresh(d);
  j.inflight--;
  uint64_t jid = j.id;
  maybe_close(j, now);
  maybe_drop(d);
  if (poisoned) hold(jid, now);
  // No delivery starts here: step() starts them once every report that has
  // arrived is in. Postfix starts one after each report; waiting for the
  // whole batch damps the window near a destination's limit (a cohort that
  // reports at once counts as less busy when it grows the window).
}

// ---- triggers and time ----

void Core::trigger(std::string_view req, time_t now) {
  bool a = req.find('A') != std::string_view::npos;
  bool f = req.find('F') != std::string_view::npos;
  bool dscan = req.find('D') != std::string_view::npos;
  if (a) scan_all_ = true;
  if (f) {
    for (auto& t : t_) {
      std::vector<Dest*> ds;
      for (auto& [k, d] : t->dests)
        if (d->dead || d->probing) ds.push_back(d.get());
      for (Dest* d : ds) revive(*d, "flushed (F)", false, now);
    }
  }
  if (dscan) {
    scan_deferred(now, scan_all_);
    scan_all_ = false;
  }
}

bool Core::flush_destination(std::string_view domain, time_t now) {
  Transport& t = *t_[kRemote];
  addr::Route r = addr::route_for(cfg_.routes, addr::lower(domain));
  auto it = t.dests.find(r.key());
  if (it == t.dests.end()) return false;
  Dest& d = *it->second;
  if (d.dead || d.probing)
    revive(d, "flushed", false, now);
  else
    wake(d);
  return true;
}

void Core::step(time_t now) {
  last_now_ = std::max(last_now_, now);
  while (!dead_timers_.empty() && dead_timers_.begin()->first <= now) {
    auto [ch, k] = dead_timers_.begin()->second;
    time_t when = dead_timers_.begin()->first;
    dead_timers_.erase(dead_timers_.begin());
    auto it = t_[ch]->dests.find(k);
    if (it == t_[ch]->dests.end()) continue;
    Dest& d = *it->second;
    if (!d.dead || d.dead_until != when) continue;
    revive(d, "its backoff ended", true, now);
    maybe_drop(d);
  }
  if (stopping_) return;
  if (now >= next_scan_) scan_deferred(now, false);
  intake(now);
  for (auto& t : t_)
    while (dispatch(*t, now)) {
    }
}

time_t Core::next_wakeup(time_t now) const {
  time_t w = next_scan_;
  if (!dead_timers_.empty()) w = std::min(w, dead_timers_.begin()->first);
  if (stopping_) return std::max(w, now);
  for (auto const& t : t_) {
    if (!t->fresh.empty() && jobs_.size() < cfg_.message_active_limit) return now;
    if (!t->due.empty() && jobs_.size() < cfg_.message_active_limit - cfg_.message_active_limit / 5) return now;
    if (!t->ready.empty() && t->used < t->concurrency(cfg_) && !t->free_slots.empty()) return now;
  }
  return std::max(w, now);
}

unsigned Core::in_flight(Channel c) const { return t_[c]->used; }
unsigned Core::concurrency(Channel c) const { return t_[c]->concurrency(cfg_); }

Stats Core::stats() const {
  Stats s;
  for (int c = 0; c < kChannels; c++) {
    Transport const& t = *t_[c];
    s.used[c] = t.used;
    s.concurrency[c] = t.concurrency(cfg_);
    s.queued += t.deferred.size() + t.fresh.size() + t.due.size();
    s.dests += t.dests.size();
    for (auto const& [k, d] : t.dests) {
      if (d->dead) s.dead++;
      if (t.used >= t.concurrency(cfg_) || !ready(*d)) continue;
      s.backlog += d->todo;
    }
  }
  s.active = jobs_.size();
  s.rcpts_in_core = rcpts_in_core_;
  s.delivered = delivered_;
  std::copy(&results_[0][0], &results_[0][0] + kChannels * 3, &s.results[0][0]);
  return s;
}

bool parse_channel_file(std::string_view data, uint64_t base, std::vector<QueuedRcpt>* pending) {
  pending->clear();
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nul = data.find('\0', pos);
    if (nul == std::string_view::npos) return false;
    char t = data[pos];
    if (t == 'T')
      pending->push_back({std::string(data.substr(pos + 1, nul - pos - 1)), base + pos});
    else if (t != 'D')
      return false;
    pos = nul + 1;
  }
  return true;
}

}  // namespace qf::send
