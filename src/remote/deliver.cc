// ISC license.
#include "remote/deliver.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <iterator>

#include "conf/control.h"
#include "sys/fs.h"

namespace qf::remote {

namespace {

char const* const kFiles[] = {"me",       "helohost", "timeoutconnect",
                              "timeoutremote", "smtproutes", "locals",
                              "connectioncachetimelimit", "connectionreusecountlimit",
                              "connectionreusetimelimit"};

bool read_uint(char const* name, unsigned* out, unsigned def) {
  uint64_t v;
  if (!conf::control_uint(name, &v, def)) return false;
  *out = v > 1000000 ? 1000000 : unsigned(v);
  return true;
}

}  // namespace

bool Config::load() {
  char host[256] = "";
  if (::gethostname(host, sizeof host - 1) < 0) strcpy(host, "localhost");
  if (!conf::control_line("me", &me, host)) return false;
  if (!conf::control_line("helohost", &helo, me)) return false;
  if (!read_uint("timeoutconnect", &timeouts.connect, 60)) return false;
  if (!read_uint("timeoutremote", &timeouts.remote, 1200)) return false;
  if (!timeouts.connect) timeouts.connect = 1;
  if (!timeouts.remote) timeouts.remote = 1;
  std::vector<std::string> lines;
  if (!conf::control_list("smtproutes", &lines)) return false;
  routes.parse(lines);
  if (!conf::control_list("locals", &lines)) return false;
  self = SelfCheck::load(me, lines);
  if (!read_uint("connectioncachetimelimit", &cache_time, 5)) return false;
  if (!read_uint("connectionreusecountlimit", &reuse_count, 100)) return false;
  if (!read_uint("connectionreusetimelimit", &reuse_time, 300)) return false;
  return true;
}

bool ConfigCache::refresh() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t ms = int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  if (loaded_ && ms - checked_ms_ < 1000) return true;  // look at most once a second
  checked_ms_ = ms;
  conf::ControlStamps now;
  now.take(kFiles, std::size(kFiles));  // a file that cannot be stat'ed matches nothing: reload
  if (loaded_ && now == seen_) return true;
  Config c;
  if (!c.load()) return false;
  cfg_ = std::move(c);
  seen_ = std::move(now);
  loaded_ = true;
  gen_++;
  return true;
}

std::string destination_key(Config const& cfg, std::string const& domain) {
  return addr::destination_key(cfg.routes, domain);
}

Deliverer::Deliverer(std::string tcpto_path)
    : tcpto_(std::move(tcpto_path)), rng_(unsigned(::getpid()) ^ unsigned(::time(nullptr))) {}

Deliverer::~Deliverer() { drop(); }

void Deliverer::drop() {
  if (session_) session_->quit();
  session_.reset();
  key_.clear();
}

bool Deliverer::connect_first(Config const& cfg, Resolution const& res, std::string* why) {
  time_t now = ::time(nullptr);
  size_t tried = 0;
  for (auto const& t : res.targets) {
    if (tcpto_.dead(t.ip, now)) continue;
    tried++;
    int fd = connect_tcp(t.ip, t.port, cfg.timeouts.connect);
    if (fd >= 0) {
      tcpto_.note(t.ip, false, ::time(nullptr));
      session_ = std::make_unique<Session>(Fd(fd), t.ip, cfg.timeouts);
      return true;
    }
    int err = errno;
    tcpto_.note(t.ip, err == ETIMEDOUT, ::time(nullptr));
    *why = "Sorry, I wasn't able to establish an SMTP connection to " + t.ip + ": " +
           strerror(err) + ". (#4.4.1)\n";
  }
  if (!tried)
    *why =
        "Sorry, I wasn't able to establish an SMTP connection: every address timed out recently. "
        "(#4.4.1)\n";
  return false;
}

void Deliverer::deliver(Config const& cfg, std::string const& domain, MessageSource const& msg,
                        std::string const& sender, std::vector<std::string> const& rcpts,
                        Outcome* o) {
  *o = Outcome();
  o->rcpts.assign(rcpts.size(), RcptOutcome());
  if (domain.empty()) {
    o->status = 'D';
    o->text = "Sorry, the recipient address has no host name. (#5.1.3)\n";
    return;
  }
  Route route = route_for(cfg.routes, domain);
  std::string key = route.key();
  time_t now = ::time(nullptr);
  // A cached connection to the same destination, within its limits, is used first.
  if (session_ && (key_ != key || !session_->usable() ||
                   session_->transactions() >= cfg.reuse_count ||
                   now - opened_ >= time_t(cfg.reuse_time)))
    drop();
  if (session_) {
    session_->transact(sender, rcpts, msg, o);
    if (!o->retry_fresh) {
      if (!session_->usable()) drop();
      return;
    }
    drop();  // the peer had closed it: nothing was delivered, start afresh
    *o = Outcome();
    o->rcpts.assign(rcpts.size(), RcptOutcome());
  }
  Resolution res = resolve(route, dns_, cfg.self, &rng_);
  if (res.status != Resolution::Status::ok) {
    o->status = res.status == Resolution::Status::temp ? 'Z' : 'D';
    o->site_failure = o->status == 'Z';  // no usable DNS answer for the whole domain
    o->text = res.text;
    return;
  }
  std::string why;
  if (!connect_first(cfg, res, &why)) {
    o->status = 'Z';
    o->site_failure = true;
    o->text = why;
    return;
  }
  opened_ = now;
  if (!session_->start(cfg.helo, o)) {
    session_.reset();
    return;
  }
  session_->transact(sender, rcpts, msg, o);
  if (session_->usable())
    key_ = key;
  else
    drop();
}

std::vector<spawn::Result> per_recipient(Outcome const& o) {
  std::vector<spawn::Result> v;
  for (auto const& r : o.rcpts) {
    if (r.kind == 's')
      v.push_back({'Z', r.text});
    else if (r.kind == 'h')
      v.push_back({'D', r.text});
    else
      v.push_back({o.status, o.text});
  }
  return v;
}

std::string remote_output(Outcome const& o) {
  std::string out;
  for (auto const& r : o.rcpts) {
    if (!r.kind) continue;
    out.push_back(r.kind);
    out += r.text;
    out.push_back('\0');
  }
  out.push_back(o.status);
  out += o.text;
  out.push_back('\0');
  return out;
}

}  // namespace qf::remote
