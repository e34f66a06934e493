// ISC license.
#include "smtpd/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <iterator>
#include <optional>

#include "conf/control.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/loop.h"
#include "sys/timefmt.h"

namespace qf::smtpd {

namespace {

std::string env_or(char const* name, char const* def) {
  char const* v = getenv(name);
  return v ? v : def;
}

// qmail's scan_ulong: the leading digits, 0 when there are none.
uint64_t leading_number(char const* s) {
  uint64_t n = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    uint64_t d = uint64_t(*s - '0');
    if (n > (UINT64_MAX - d) / 10) return UINT64_MAX;
    n = n * 10 + d;
  }
  return n;
}

// Makes a descriptor non-blocking for the session and restores its file
// status flags when the session ends: under a pipe the other end may be
// shared with other programs. A descriptor that already is (-L's sockets)
// costs one fcntl.
class NonblockGuard {
 public:
  explicit NonblockGuard(int fd) : fd_(fd), flags_(::fcntl(fd, F_GETFL)) {
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) changed_ = ::fcntl(fd, F_SETFL, flags_ | O_NONBLOCK) == 0;
  }
  ~NonblockGuard() {
    if (changed_) ::fcntl(fd_, F_SETFL, flags_);
  }
  NonblockGuard(NonblockGuard const&) = delete;
  NonblockGuard& operator=(NonblockGuard const&) = delete;

 private:
  int fd_;
  int flags_;
  bool changed_ = false;
};

// Writes everything queued, waiting at most timeout_ms for the client to take
// each part. False on a write error or timeout.
bool drain(OutQueue* out, int64_t timeout_ms) {
  for (;;) {
    if (!out->flush()) return false;
    if (!out->pending()) return true;
    iopause_fd x = {out->fd(), IOPAUSE_WRITE, 0};
    if (wait_fds(&x, 1, timeout_ms) <= 0) return false;
  }
}

// After refusing a client that may still be sending (a bare LF mid-message),
// closing at once would make the kernel answer its data with a reset that can
// destroy our last reply in flight. Say we are done writing, then read and
// drop its input for a short while.
void linger(int in_fd, int out_fd) {
  ::shutdown(out_fd, SHUT_WR);  // fails harmlessly on a pipe
  char buf[16384];
  int64_t end = monotonic_ms() + 2000;
  for (;;) {
    int64_t left = end - monotonic_ms();
    if (left <= 0) return;
    iopause_fd x = {in_fd, IOPAUSE_READ, 0};
    if (wait_fds(&x, 1, left) <= 0) return;
    ssize_t r = ::read(in_fd, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) return;
  }
}

}  // namespace

namespace {

// Every control file load_controls reads, in that order.
constexpr char const* kControls[] = {
    "me", "smtpgreeting", "localiphost", "timeoutsmtpd", "smtpd_per_request_deadline",
    "smtpd_min_data_rate", "smtpd_session_time_limit", "databytes", "rcpthosts", "badmailfrom"};

// The control-file part of cfg.
bool load_controls(Config* cfg) {
  std::string me;
  if (!conf::control_line("me", &me, "")) return false;
  if (!conf::control_line("smtpgreeting", &cfg->greeting, me)) return false;
  if (cfg->greeting.empty()) {
    errno = ENOENT;
    return false;
  }
  if (!conf::control_line("localiphost", &cfg->localiphost, me)) return false;
  uint64_t t;
  if (!conf::control_uint("timeoutsmtpd", &t, 1200)) return false;
  cfg->timeout = t == 0 ? 1 : t > 86400 ? 86400 : unsigned(t);
  if (!conf::control_uint("smtpd_per_request_deadline", &t, 1)) return false;
  cfg->per_request_deadline = t != 0;
  if (!conf::control_uint("smtpd_min_data_rate", &cfg->min_data_rate, 500)) return false;
  if (!conf::control_uint("smtpd_session_time_limit", &t, 3600)) return false;
  cfg->session_limit = t > 864000 ? 864000 : unsigned(t);
  if (!conf::control_uint("databytes", &cfg->databytes, 0)) return false;

  std::vector<std::string> lines;
  if (!conf::control_list("rcpthosts", &lines)) return false;
  cfg->rcpthosts = HostList(conf::control_exists("rcpthosts"), lines);
  if (!conf::control_list("badmailfrom", &lines)) return false;
  cfg->badmailfrom = HostList(!lines.empty(), lines);
  return true;
}

// The part of cfg that comes from the environment: tcpserver's (or -L's)
// description of the client, DATABYTES and RELAYCLIENT.
void load_env(Config* cfg) {
  if (char const* d = getenv("DATABYTES")) cfg->databytes = leading_number(d);
  Peer& p = cfg->peer;
  p.remote_ip = env_or("TCPREMOTEIP", "unknown");
  p.remote_host = env_or("TCPREMOTEHOST", "unknown");
  p.remote_info = env_or("TCPREMOTEINFO", "");
  p.local_ip = env_or("TCPLOCALIP", "");
  p.local_host = env_or("TCPLOCALHOST", p.local_ip.empty() ? "unknown" : p.local_ip.c_str());
  cfg->relay_client = false;
  cfg->relay_suffix.clear();
  if (char const* r = getenv("RELAYCLIENT")) {
    cfg->relay_client = true;
    cfg->relay_suffix = r;
  }
}

}  // namespace

bool load_config(Config* cfg) {
  if (!load_controls(cfg)) return false;
  load_env(cfg);
  return true;
}

bool ControlCache::load(Config* cfg) {
  // Stamps that could not all be taken match nothing, so the files are read.
  conf::ControlStamps now;
  now.take(kControls, std::size(kControls));
  if (now != stamps_) {
    // Stamped before reading: a change during the read shows at the next session.
    stamps_ = conf::ControlStamps();
    Config fresh;
    if (!load_controls(&fresh)) return false;
    base_ = std::move(fresh);
    stamps_ = std::move(now);
  }
  *cfg = base_;
  load_env(cfg);
  return true;
}

bool QueueSink::open() {
  client_ = std::make_unique<queue::QueueClient>();
  if (client_->open()) return true;
  client_.reset();
  return false;
}

uint64_t QueueSink::qp() const { return client_ ? uint64_t(client_->pid()) : 0; }

void QueueSink::put(std::string_view bytes) {
  if (client_) client_->put(bytes);
}

int QueueSink::commit(std::string_view sender, std::vector<std::string> const& rcpts) {
  if (!client_) return qq::bug;
  int code = client_->close(sender, rcpts);
  client_.reset();
  return code;
}

int serve(int in_fd, int out_fd, ControlCache* cache) {
  // A client or a qmail-queue that goes away must give EPIPE, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  Config cfg;
  if (!(cache ? cache->load(&cfg) : load_config(&cfg))) {
    write_all(out_fd, "421 unable to read controls (#4.3.0)\r\n");
    return ex::temp;
  }
  int64_t const timeout_ms = int64_t(cfg.timeout) * 1000;
  bool const per_request = cfg.per_request_deadline;

  NonblockGuard in_flags(in_fd);
  std::optional<NonblockGuard> out_flags;
  if (out_fd != in_fd) out_flags.emplace(out_fd);
  OutQueue out(out_fd);
  QueueSink sink;
  Session s(std::move(cfg), &sink, [] { return time(nullptr); });
  s.start();

  char buf[1 << 16];
  // The last read filled buf: there may be more at once. Not at first: a
  // client waits for the greeting.
  bool more = false;
  for (;;) {
    if (!s.replies().empty()) {
      out.put(s.replies());
      s.replies().clear();
    }
    if (s.finished()) break;
    // A client that pipelines without reading our replies waits for them here.
    if (out.size() > sizeof buf && !drain(&out, timeout_ms)) return ex::temp;
    // After a short read the input is most likely empty: answer and wait
    // instead of a read that would say EAGAIN (the wait sees new input at once).
    ssize_t r;
    if (more) {
      r = ::read(in_fd, buf, sizeof buf);
    } else {
      r = -1;
      errno = EAGAIN;
    }
    more = true;
    if (r > 0) {
      s.feed(std::string_view(buf, size_t(r)));
      more = size_t(r) == sizeof buf;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Nothing more to read now: answer what we have, then wait.
      if (!drain(&out, timeout_ms)) return ex::temp;
      // Until the session's deadline (the request's or the session's end);
      // without per-request deadlines, timeoutsmtpd applies to each read.
      int64_t wait_ms = per_request ? -1 : timeout_ms;
      int64_t now = wallclock_ms();
      time_t d = s.deadline();
      if (d) {
        int64_t left = int64_t(d) * 1000 - now;
        if (left < 0) left = 0;
        if (wait_ms < 0 || left < wait_ms) wait_ms = left;
      }
      iopause_fd x = {in_fd, IOPAUSE_READ, 0};
      int n = wait_fds(&x, 1, wait_ms);
      if (n < 0) return ex::temp;
      if (n == 0) {
        if (d && time(nullptr) >= d) s.expire();
        else if (!per_request) s.timeout();
      }
      continue;
    }
    s.eof();  // end of input or a read error: the connection is gone
  }
  // The session's verdict stands even if the client does not read the last reply.
  if (drain(&out, timeout_ms) && s.linger()) linger(in_fd, out_fd);
  return s.exit_code();
}

}  // namespace qf::smtpd
