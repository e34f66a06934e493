// ISC license.
#include "remote/smtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "sys/fs.h"

namespace qf::remote {

namespace {

int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits for events on fd until deadline (monotonic ms). Returns revents, 0 on timeout, -1 on error.
int wait_until(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {fd, events, 0};
    int r = ::poll(&p, 1, left > 1000000 ? 1000000 : int(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r > 0) return p.revents ? p.revents : events;
  }
}

bool has_control(std::string const& s) {
  for (unsigned char c : s)
    if (c < 32 || c == 127) return true;
  return false;
}

}  // namespace

bool MessageSource::scan() {
  BodyScanner sc;
  char buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t r = ::pread(fd, buf, sizeof buf, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (r == 0) break;
    sc.feed(std::string_view(buf, size_t(r)));
    off += r;
  }
  info = sc.finish();
  return true;
}

int connect_tcp(std::string const& ip, uint16_t port, unsigned seconds) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    len = sizeof *s4;
  } else if (inet_pton(AF_INET6, ip.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    len = sizeof *s6;
  } else {
    errno = EINVAL;
    return -1;
  }
  Fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.ok()) return -1;
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) return fd.release();
  if (errno != EINPROGRESS) return -1;
  int r = wait_until(fd.get(), POLLOUT, now_ms() + int64_t(seconds) * 1000);
  if (r == 0) {
    errno = ETIMEDOUT;
    return -1;
  }
  if (r < 0) return -1;
  int err = 0;
  socklen_t el = sizeof err;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el) < 0) return -1;
  if (err) {
    errno = err;
    return -1;
  }
  return fd.release();
}

Session::~Session() {
  if (fd_.ok() && !broken_) quit();
}

Session::Io Session::send(std::string const& data) {
  size_t pos = 0;
  while (pos < data.size()) {
    ssize_t w = ::send(fd_.get(), data.data() + pos, data.size() - pos, MSG_NOSIGNAL);
    if (w > 0) {
      pos += size_t(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return Io::error;
    int r = wait_until(fd_.get(), POLLOUT, now_ms() + int64_t(t_.remote) * 1000);
    if (r == 0) return Io::timeout;
    if (r < 0) return Io::error;
  }
  return Io::ok;
}

Session::Io Session::read_reply(Reply* out) {
  int64_t deadline = now_ms() + int64_t(t_.remote) * 1000;
  for (;;) {
    if (in_pos_ < in_.size()) {
      size_t used;
      auto st = parser_.feed(in_.data() + in_pos_, in_.size() - in_pos_, &used);
      in_pos_ += used;
      if (in_pos_ == in_.size()) {
        in_.clear();
        in_pos_ = 0;
      }
      if (st == ReplyParser::Status::reply) {
        *out = parser_.take();
        if (out->code == 421) saw_421_ = true;
        return Io::ok;
      }
      if (st == ReplyParser::Status::bad) return Io::bad;
    }
    int r = wait_until(fd_.get(), POLLIN, deadline);
    if (r == 0) return Io::timeout;
    if (r < 0) return Io::error;
    char buf[4096];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Io::error;
    if (n == 0) return Io::closed;
    in_.append(buf, size_t(n));
  }
}

std::string Session::said(Reply const& r) const {
  return r.text.empty() ? std::string() : "Remote host said: " + r.text;
}

void Session::drop_keeping(Outcome*) {
  broken_ = true;
  fd_.reset();
}

void Session::io_failure(Io e, char const* during, Outcome* o) {
  broken_ = true;
  o->status = 'Z';
  o->site_failure = true;
  switch (e) {
    case Io::timeout:
      o->text = "Connected to " + host_ + " but timed out " + during + ". (#4.4.2)\n";
      break;
    case Io::bad:
      o->text = "Connected to " + host_ + " but its reply was unusable (" + parser_.error() +
                ") " + during + ". (#4.4.2)\n";
      break;
    default:
      o->text = "Connected to " + host_ + " but connection died " + during + ". (#4.4.2)\n";
  }
  fd_.reset();
}

bool Session::start(std::string const& helo, Outcome* o) {
  saw_421_ = false;
  bool ok = greet(helo, o);
  // No greeting or no HELO is the destination's failure, whatever the code.
  if (!ok && o->status == 'Z') o->site_failure = true;
  return ok;
}

bool Session::greet(std::string const& helo, Outcome* o) {
  Reply r;
  Io e = read_reply(&r);
  if (e != Io::ok) {
    io_failure(e, "waiting for the greeting", o);
    return false;
  }
  if (r.code != 220) {
    o->status = r.code >= 500 ? 'D' : 'Z';
    o->text = "Connected to " + host_ + " but greeting failed.\n" + said(r);
    broken_ = true;
    quit();
    return false;
  }
  if ((e = send("EHLO " + helo + "\r\n")) != Io::ok || (e = read_reply(&r)) != Io::ok) {
    io_failure(e, "after EHLO", o);
    return false;
  }
  if (r.code == 250) {
    ext_ = parse_ehlo(r);
    return true;
  }
  if (r.code == 421) {  // the peer is closing: no point in HELO
    o->status = 'Z';
    o->text = "Connected to " + host_ + " but my name was rejected.\n" + said(r);
    broken_ = true;
    fd_.reset();
    return false;
  }
  ext_ = Extensions();
  if ((e = send("HELO " + helo + "\r\n")) != Io::ok || (e = read_reply(&r)) != Io::ok) {
    io_failure(e, "after HELO", o);
    return false;
  }
  if (r.code != 250) {
    o->status = 'Z';
    o->text = "Connected to " + host_ + " but my name was rejected.\n" + said(r);
    quit();
    return false;
  }
  return true;
}

Session::Io Session::send_body(MessageSource const& msg, Reply* early, bool* got_early) {
  *got_early = false;
  BodyEncoder enc;
  std::string out;
  char buf[1 << 16];
  off_t off = 0;
  bool eof = false;
  while (!eof || !out.empty()) {
    if (!eof && out.size() < (1 << 16)) {
      ssize_t r = ::pread(msg.fd, buf, sizeof buf, off);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Io::error;  // the caller cannot finish this transaction
      if (r == 0) {
        enc.finish(&out);
        eof = true;
      } else {
        enc.feed(std::string_view(buf, size_t(r)), &out);
        off += r;
      }
      continue;
    }
    ssize_t w = ::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      out.erase(0, size_t(w));
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      // The peer may have said why before it went away.
      if (read_reply(early) == Io::ok) *got_early = true;
      return Io::closed;
    }
    int rv = wait_until(fd_.get(), POLLOUT | POLLIN, now_ms() + int64_t(t_.remote) * 1000);
    if (rv == 0) return Io::timeout;
    if (rv < 0) return Io::error;
    if (rv & (POLLIN | POLLHUP | POLLERR)) {
      // An answer in the middle of the data: the peer gave up on the message.
      Io e = read_reply(early);
      if (e != Io::ok) return e;
      *got_early = true;
      return Io::ok;
    }
  }
  return Io::ok;
}

void Session::transact(std::string const& sender, std::vector<std::string> const& rcpts,
                       MessageSource const& msg, Outcome* o) {
  saw_421_ = false;
  exchange(sender, rcpts, msg, o);
  // A 421 anywhere says the peer is closing on everyone, not on this message.
  if (saw_421_ && o->status == 'Z') o->site_failure = true;
}

void Session::exchange(std::string const& sender, std::vector<std::string> const& rcpts,
                       MessageSource const& msg, Outcome* o) {
  o->rcpts.assign(rcpts.size(), RcptOutcome());
  o->retry_fresh = false;
  if (has_control(sender)) {
    o->status = 'D';
    o->text = "Sorry, the envelope sender contains a control character. (#5.1.7)\n";
    return;
  }
  if (ext_.size && ext_.size_limit && msg.info.size > ext_.size_limit) {
    o->status = 'D';
    o->text = "Sorry, " + host_ + " accepts messages of at most " + fmt_u64(ext_.size_limit) +
              " bytes; this one has " + fmt_u64(msg.info.size) + ". (#5.3.4)\n";
    return;
  }
  std::vector<size_t> sent;  // indexes of recipients given to the peer
  for (size_t i = 0; i < rcpts.size(); i++) {
    if (has_control(rcpts[i])) {
      o->rcpts[i] = {'h', "Sorry, the recipient address contains a control character. (#5.1.3)\n"};
      continue;
    }
    sent.push_back(i);
  }
  if (sent.empty()) {
    o->status = 'D';
    o->text = "Giving up on " + host_ + ".\n";
    return;
  }
  bool rset = done_ > 0;
  done_++;
  std::string mail = "MAIL FROM:<" + sender + ">";
  if (ext_.size) mail += " SIZE=" + fmt_u64(msg.info.size);
  if (msg.info.eightbit && ext_.eightbitmime) mail += " BODY=8BITMIME";
  mail += "\r\n";
  Reply r;
  Io e;
  // Failures before the peer answered a recipient may be retried elsewhere.
  auto early_failure = [&](Io err, char const* during) {
    io_failure(err, during, o);
    o->retry_fresh = rset;
  };
  // RSET's answer: a refusal leaves the peer in no state we know, start afresh.
  auto rset_answer = [&]() -> bool {
    if ((e = read_reply(&r)) != Io::ok) {
      early_failure(e, "after RSET");
      return false;
    }
    if (r.code == 250) return true;
    broken_ = true;
    o->status = 'Z';
    o->text = "Connected to " + host_ + " but RSET failed.\n" + said(r);
    o->retry_fresh = true;
    quit();
    return false;
  };
  if (ext_.pipelining) {
    std::string batch = rset ? "RSET\r\n" : "";
    batch += mail;
    for (size_t i : sent) batch += "RCPT TO:<" + rcpts[i] + ">\r\n";
    batch += "DATA\r\n";
    if ((e = send(batch)) != Io::ok) return early_failure(e, "sending the envelope");
    if (rset && !rset_answer()) return;
  } else {
    if (rset) {
      if ((e = send("RSET\r\n")) != Io::ok) return early_failure(e, "after RSET");
      if (!rset_answer()) return;
    }
    if ((e = send(mail)) != Io::ok) return early_failure(e, "after MAIL");
  }
  if ((e = read_reply(&r)) != Io::ok) return early_failure(e, "after MAIL");
  bool mail_ok = r.code >= 200 && r.code < 300;
  if (!mail_ok) {
    o->status = r.code >= 500 ? 'D' : 'Z';
    o->text = "Connected to " + host_ + " but sender was rejected.\n" + said(r);
  }
  size_t accepted = 0;
  for (size_t i : sent) {
    if (!ext_.pipelining) {
      if (!mail_ok) break;
      if ((e = send("RCPT TO:<" + rcpts[i] + ">\r\n")) != Io::ok) return io_failure(e, "after RCPT", o);
    }
    if ((e = read_reply(&r)) != Io::ok) {
      if (!mail_ok) return drop_keeping(o);  // the sender's refusal says it all (e.g. 421)
      return io_failure(e, "after RCPT", o);
    }
    if (!mail_ok) continue;
    if (r.code >= 200 && r.code < 300) {
      o->rcpts[i] = {'r', ""};
      accepted++;
    } else {
      o->rcpts[i] = {r.code >= 500 ? 'h' : 's', host_ + " does not like recipient.\n" + said(r)};
    }
  }
  if (!ext_.pipelining && (!mail_ok || !accepted)) {
    if (mail_ok) {
      o->status = 'D';
      o->text = "Giving up on " + host_ + ".\n";
    }
    return;
  }
  if (!ext_.pipelining) {
    if ((e = send("DATA\r\n")) != Io::ok) return io_failure(e, "after DATA", o);
  }
  if ((e = read_reply(&r)) != Io::ok) {
    if (!mail_ok) return drop_keeping(o);
    return io_failure(e, "after DATA", o);
  }
  if (!mail_ok || !accepted) {
    if (r.code == 354) {
      // Pipelined DATA accepted with nobody to deliver to: send an empty message
      // that the peer must refuse, and leave the connection in a known state.
      if ((e = send(".\r\n")) != Io::ok || (e = read_reply(&r)) != Io::ok) {
        broken_ = true;
        fd_.reset();
      }
    }
    if (mail_ok) {
      o->status = 'D';
      o->text = "Giving up on " + host_ + ".\n";
    }
    return;
  }
  if (r.code != 354) {
    o->status = r.code >= 500 ? 'D' : 'Z';
    o->text = host_ + " failed on DATA command.\n" + said(r);
    return;
  }
  bool early = false;
  e = send_body(msg, &r, &early);
  if (early) {
    broken_ = true;
    o->status = r.code >= 500 ? 'D' : 'Z';
    o->text = host_ + " failed after I sent the message.\n" + said(r);
    quit();
    return;
  }
  if (e != Io::ok) return io_failure(e, "sending the message", o);
  if ((e = read_reply(&r)) != Io::ok) return io_failure(e, "after I sent the message", o);
  if (r.code >= 200 && r.code < 300) {
    o->status = 'K';
    o->text = host_ + " accepted message.\n" + said(r);
  } else {
    o->status = r.code >= 500 ? 'D' : 'Z';
    o->text = host_ + " failed after I sent the message.\n" + said(r);
  }
}

void Session::quit() {
  if (!fd_.ok()) return;
  if (!broken_) {
    ssize_t w = ::send(fd_.get(), "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;  // waiting for the answer buys nothing
  }
  broken_ = true;
  fd_.reset();
}

}  // namespace qf::remote
