// ISC license.
#include "admin/metrics.h"

#include <algorithm>

#include "sys/fs.h"

namespace qf::admin {

namespace {

constexpr char const* kChan[2] = {"local", "remote"};

struct Family {
  char const* name;
  char const* type;
  char const* help;
  std::string samples;
};

std::string labels(unsigned q, char const* chan = nullptr, char const* k = nullptr, char const* v = nullptr) {
  std::string r = "{queue=\"" + fmt_u64(q) + "\"";
  if (chan) r += std::string(",channel=\"") + chan + "\"";
  if (k) r += std::string(",") + k + "=\"" + v + "\"";
  return r + "}";
}

void sample(Family* f, std::string const& l, uint64_t v) {
  f->samples += f->name;
  f->samples += l;
  f->samples += ' ';
  f->samples += fmt_u64(v);
  f->samples += '\n';
}

}  // namespace

std::string prometheus(std::vector<QueueMetrics> const& queues, time_t now) {
  Family msgs{"qfleet_queue_messages", "gauge",
              "Messages in the queue by state (incoming active deferred hold corrupt; qmail-qshape(8)).", {}};
  Family oldest{"qfleet_queue_oldest_message_age_seconds", "gauge",
                "Age of the oldest message in the queue (0 when empty).", {}};
  Family queued{"qfleet_channel_queued_messages", "gauge",
                "Messages with a recipient pending on the channel (todo/ messages not counted).", {}};
  Family deferred{"qfleet_channel_deferred_messages", "gauge",
                  "Messages with a recipient pending on the channel and a retry time in the future.", {}};
  Family held{"qfleet_channel_held_messages", "gauge", "Held messages with a recipient pending on the channel.", {}};
  Family up{"qfleet_send_up", "gauge", "1 when a qmail-send publishes figures for the queue.", {}};
  Family inflight{"qfleet_channel_in_flight", "gauge", "Deliveries in progress (qmail-send's figure).", {}};
  Family conc{"qfleet_channel_concurrency_limit", "gauge", "The channel's concurrency limit (qmail-send's figure).", {}};
  Family results{"qfleet_channel_recipients_total", "counter",
                 "Recipient results since qmail-send started, by result (delivered deferred failed).", {}};
  for (auto const& q : queues) {
    uint64_t by_state[5] = {0, 0, 0, 0, 0};
    uint64_t chq[2] = {0, 0}, chd[2] = {0, 0}, chh[2] = {0, 0};
    time_t first = 0;
    if (q.messages) {
      for (auto const& m : *q.messages) {
        State st = m.state(now);
        by_state[int(st)]++;
        if (m.birth && (!first || m.birth < first)) first = m.birth;
        bool on[2] = {false, false};
        for (auto const& r : m.rcpts) {
          if (r.channel == 'L') on[0] = true;
          if (r.channel == 'R') on[1] = true;
        }
        for (int c = 0; c < 2; c++) {
          if (!on[c]) continue;
          chq[c]++;
          if (st == State::deferred) chd[c]++;
          if (st == State::hold) chh[c]++;
        }
      }
    }
    for (State s : {State::incoming, State::active, State::deferred, State::hold, State::corrupt})
      sample(&msgs, labels(q.number, nullptr, "state", state_name(s)), by_state[int(s)]);
    sample(&oldest, labels(q.number), first && now > first ? uint64_t(now - first) : 0);
    for (int c = 0; c < 2; c++) {
      sample(&queued, labels(q.number, kChan[c]), chq[c]);
      sample(&deferred, labels(q.number, kChan[c]), chd[c]);
      sample(&held, labels(q.number, kChan[c]), chh[c]);
    }
    bool live = q.live && q.live->pid;
    sample(&up, labels(q.number), live ? 1 : 0);
    if (!live) continue;
    unsigned used[2] = {q.live->lused, q.live->rused}, max[2] = {q.live->lmax, q.live->rmax};
    for (int c = 0; c < 2; c++) {
      sample(&inflight, labels(q.number, kChan[c]), used[c]);
      sample(&conc, labels(q.number, kChan[c]), max[c]);
      char const* what[3] = {"delivered", "deferred", "failed"};
      for (int k = 0; k < 3; k++)
        sample(&results, labels(q.number, kChan[c], "result", what[k]), q.live->results[c][k]);
    }
  }
  std::string out;
  for (Family const* f : {&msgs, &oldest, &queued, &deferred, &held, &up, &inflight, &conc, &results}) {
    if (f->samples.empty()) continue;
    out += std::string("# HELP ") + f->name + " " + f->help + "\n";
    out += std::string("# TYPE ") + f->name + " " + f->type + "\n";
    out += f->samples;
  }
  return out;
}

}  // namespace qf::admin
