// ISC license.
#include "smtpd/session.h"

#include "sys/exitcodes.h"
#include "sys/fs.h"

namespace qf::smtpd {

Session::Session(Config cfg, Sink* sink, Clock clock)
    : cfg_(std::move(cfg)), sink_(sink), clock_(std::move(clock)), reader_(cfg_.max_line) {
  helo_ = cfg_.peer.remote_host;  // no HELO yet: the Received line shows none
}

Session::~Session() {
  if (sink_open_) sink_->abort();
}

void Session::reply(std::string_view line) {
  out_.append(line);
  out_.append("\r\n");
}

void Session::finish(int code, bool linger) {
  if (sink_open_) {
    sink_->abort();
    sink_open_ = false;
  }
  finished_ = true;
  exit_code_ = code;
  linger_ = linger;
}

void Session::violation(std::string_view what) {
  // As Postfix with smtpd_forbid_bare_newline = reject and reject code 521:
  // refuse and disconnect, so that nothing after the bad byte is ever read
  // as SMTP (no smuggled second message, no guessed line end).
  std::string_view host = cfg_.greeting;
  host = host.substr(0, host.find(' '));
  std::string r = "521 5.5.2 ";
  r.append(host);
  r.append(" Error: ");
  r.append(what);
  reply(r);
  finish(ex::perm, true);
}

void Session::start() {
  started_ = clock_();
  next_request();
  reply("220 " + cfg_.greeting + " ESMTP");
}

// A new request starts: the client has timeout seconds to send it.
void Session::next_request() { request_end_ = clock_() + time_t(cfg_.timeout); }

time_t Session::deadline() const {
  time_t d = 0;
  if (cfg_.per_request_deadline) d = in_data_ ? time_t(data_credit_ms_ / 1000) : request_end_;
  if (cfg_.session_limit) {
    time_t s = started_ + time_t(cfg_.session_limit);
    if (!d || s < d) d = s;
  }
  return d;
}

void Session::expire() {
  if (finished_) return;
  if (cfg_.session_limit && clock_() >= started_ + time_t(cfg_.session_limit)) {
    std::string_view host = cfg_.greeting;
    host = host.substr(0, host.find(' '));
    reply("421 4.4.2 " + std::string(host) + " Error: session time limit exceeded");
    return finish(ex::temp, true);
  }
  timeout();
}

void Session::reset_transaction() {
  in_mail_ = false;
  sender_barred_ = false;
  sender_.clear();
  rcpts_.clear();
}

void Session::feed(std::string_view in) {
  while (!in.empty() && !finished_) {
    if (in_data_) {
      data(&in);
      continue;
    }
    switch (reader_.next(&in)) {
      case Event::need_more: return;
      case Event::line:
        next_request();
        dispatch(reader_.line(), !in.empty());
        break;
      case Event::too_long: reply("500 command line too long (#5.5.2)"); break;
      case Event::bare_lf: violation("bare <LF> received"); break;
      case Event::bare_cr: violation("bare <CR> received"); break;
      case Event::end: break;  // not a command-stream event
    }
  }
}

void Session::eof() {
  if (!finished_) finish(ex::temp, false);
}

void Session::timeout() {
  if (finished_) return;
  reply("451 timeout (#4.4.2)");
  finish(ex::temp, false);
}

void Session::dispatch(std::string const& line, bool more_input) {
  std::string_view l(line);
  size_t sp = l.find(' ');
  std::string verb = lower(l.substr(0, sp < 16 ? sp : 16));
  std::string_view arg = sp == std::string_view::npos ? std::string_view() : l.substr(sp + 1);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);

  if (verb == "rcpt") return cmd_rcpt(arg);
  if (verb == "mail") return cmd_mail(arg);
  if (verb == "data") return cmd_data(more_input);
  if (verb == "ehlo") return cmd_helo(arg, true);
  if (verb == "helo") return cmd_helo(arg, false);
  if (verb == "rset") {
    reset_transaction();
    return reply("250 flushed");
  }
  if (verb == "noop") return reply("250 ok");
  if (verb == "vrfy") return reply("252 send some mail, i'll try my best");
  if (verb == "help") return reply("214 qfleet qmail-smtpd: see qmail-smtpd(8)");
  if (verb == "quit") {
    reply("221 " + cfg_.greeting);
    return finish(ex::ok, false);
  }
  reply("502 unimplemented (#5.5.1)");
}

void Session::cmd_helo(std::string_view arg, bool extended) {
  reset_transaction();
  helo_ = std::string(arg);
  if (!extended) return reply("250 " + cfg_.greeting);
  reply("250-" + cfg_.greeting);
  reply("250-PIPELINING");
  if (cfg_.databytes == 0) return reply("250 8BITMIME");
  reply("250-8BITMIME");
  reply("250 SIZE " + fmt_u64(cfg_.databytes));
}

namespace {

// qmail's localiphost: box@[our ip] becomes box@localiphost.
void rewrite_local_ip(Config const& cfg, std::string* addr) {
  if (cfg.localiphost.empty() || cfg.peer.local_ip.empty()) return;
  size_t at = addr->rfind('@');
  if (at == std::string::npos) return;
  if (addr->compare(at + 1, std::string::npos, "[" + cfg.peer.local_ip + "]") != 0) return;
  addr->replace(at + 1, std::string::npos, cfg.localiphost);
}

}  // namespace

void Session::cmd_mail(std::string_view arg) {
  if (in_mail_) return reply("503 nested MAIL command (#5.5.1)");
  Path p;
  uint64_t size;
  if (parse_path(arg, "from:", &p) != PathError::none || !mail_size_param(p.params, &size))
    return reply("555 syntax error (#5.5.4)");
  if (cfg_.databytes && size > cfg_.databytes)
    return reply("552 sorry, that message size exceeds my databytes limit (#5.3.4)");
  rewrite_local_ip(cfg_, &p.address);
  sender_barred_ = sender_refused(cfg_.badmailfrom, p.address);
  sender_ = std::move(p.address);
  rcpts_.clear();
  in_mail_ = true;
  reply("250 ok");
}

void Session::cmd_rcpt(std::string_view arg) {
  if (!in_mail_) return reply("503 MAIL first (#5.5.1)");
  Path p;
  // An empty recipient is no address at all (qmail-queue would refuse the envelope).
  if (parse_path(arg, "to:", &p) != PathError::none || p.address.empty())
    return reply("555 syntax error (#5.5.4)");
  if (sender_barred_)
    return reply("553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)");
  rewrite_local_ip(cfg_, &p.address);
  if (cfg_.relay_client) {
    p.address += cfg_.relay_suffix;
    if (p.address.size() > max_address) return reply("555 syntax error (#5.5.4)");
  } else if (!rcpt_allowed(cfg_.rcpthosts, p.address)) {
    return reply("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)");
  }
  if (rcpts_.size() >= cfg_.max_rcpts) return reply("452 too many recipients (#4.5.3)");
  rcpts_.push_back(std::move(p.address));
  reply("250 ok");
}

void Session::cmd_data(bool more_input) {
  char const* refusal = nullptr;
  if (!in_mail_) {
    refusal = "503 MAIL first (#5.5.1)";
  } else if (rcpts_.empty()) {
    refusal = "503 RCPT first (#5.5.1)";
  } else if (!sink_->open()) {
    reset_transaction();
    refusal = "451 qqt failure (#4.3.0)";
  }
  if (refusal) {
    // RFC 2920: DATA ends a pipelined group; a client must wait for 354. One
    // that did not is about to have its message read as commands: stop here.
    if (more_input) {
      reply("554 5.5.0 Error: SMTP protocol synchronization");
      return finish(ex::perm, true);
    }
    return reply(refusal);
  }
  sink_open_ = true;
  in_data_ = true;
  overflow_ = false;
  bytes_ = 0;
  hops_.reset();
  decoder_.reset();
  data_credit_ms_ = (int64_t(clock_()) + int64_t(cfg_.timeout)) * 1000;
  reply("354 go ahead");
  // qmail's order: the Received line first, not counted against databytes.
  sink_->put(received_line(cfg_.peer, helo_, clock_()));
}

void Session::data(std::string_view* in) {
  size_t before = in->size();
  Event ev = decoder_.next(in, &chunk_);
  if (cfg_.min_data_rate) {
    // Postfix's smtpd_min_data_rate: a client that keeps sending at the rate
    // keeps its deadline ahead, never more than timeout from now.
    int64_t cap = (int64_t(clock_()) + int64_t(cfg_.timeout)) * 1000;
    data_credit_ms_ += int64_t(before - in->size()) * 1000 / int64_t(cfg_.min_data_rate);
    if (data_credit_ms_ > cap) data_credit_ms_ = cap;
  }
  if (!chunk_.empty()) {
    bytes_ += chunk_.size();
    hops_.feed(chunk_);
    if (cfg_.databytes && bytes_ > cfg_.databytes) overflow_ = true;
    if ((overflow_ || hops_.hops() >= cfg_.max_hops) && sink_open_) {
      sink_->abort();  // no need to feed qmail-queue a message it will not get
      sink_open_ = false;
    }
    if (sink_open_) sink_->put(chunk_);
    chunk_.clear();
  }
  switch (ev) {
    case Event::need_more: return;
    case Event::end: return end_of_data();
    case Event::bare_lf: return violation("bare <LF> received");
    case Event::bare_cr: return violation("bare <CR> received");
    case Event::line:
    case Event::too_long: return;  // not data-stream events
  }
}

void Session::end_of_data() {
  in_data_ = false;
  next_request();
  if (hops_.hops() >= cfg_.max_hops) {
    reply("554 too many hops, this message is looping (#5.4.6)");
  } else if (overflow_) {
    reply("552 sorry, that message size exceeds my databytes limit (#5.3.4)");
  } else {
    uint64_t qp = sink_->qp();
    int code = sink_->commit(sender_, rcpts_);
    sink_open_ = false;
    if (code == qq::ok) {
      reply("250 ok " + fmt_u64(uint64_t(clock_())) + " qp " + fmt_u64(qp));
    } else {
      char const* text = qq::describe(code);
      reply(std::string(*text == 'D' ? "554 " : "451 ") + (text + 1));
    }
  }
  if (sink_open_) {
    sink_->abort();
    sink_open_ = false;
  }
  reset_transaction();
}

}  // namespace qf::smtpd
