// ISC license.
#include "inject/injector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_set>

#include "conf/control.h"
#include "conf/users.h"
#include "inject/linereader.h"
#include "queue/client.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/timefmt.h"

namespace qf::inject {

namespace {

// The first of the variables that is set and not empty.
std::optional<std::string> first_env(std::initializer_list<char const*> names) {
  for (char const* n : names)
    if (char const* v = getenv(n); v && *v) return std::string(v);
  return std::nullopt;
}

std::string errstr() { return strerror(errno); }

// A field or address fit for an error message: one line, bounded, printable.
std::string excerpt(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  std::string out;
  for (char c : s.substr(0, 200)) out.push_back(c == '\n' ? ' ' : (c >= 0 && c < 32) || c == 127 ? '?' : c);
  if (s.size() > 200) out += "...";
  return out;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; }

bool same_address(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

Tokens box_tokens(std::string_view box) {
  Tokens t;
  if (dot_atom(box) && tokenize(box, &t)) return t;
  return Tokens{Token{Token::quoted, std::string(box)}};
}

Result perm(std::string msg) { return Result{ex::perm, std::move(msg)}; }
Result temp(std::string msg) { return Result{ex::temp, std::move(msg)}; }

}  // namespace

Identity identity_from_env() {
  Identity id;
  if (auto u = first_env({"QMAILUSER", "MAILUSER", "USER", "LOGNAME"})) {
    id.user = *u;
  } else {
    conf::Account a;
    id.user = conf::find_uid(getuid(), &a) ? a.name : "anonymous";
  }
  id.host = first_env({"QMAILHOST", "MAILHOST"});
  id.name = first_env({"QMAILNAME", "MAILNAME", "NAME"});
  id.suser = first_env({"QMAILSUSER"});
  id.shost = first_env({"QMAILSHOST"});
  if (char const* f = getenv("QMAILINJECT")) {
    for (; *f; f++) {
      switch (*f) {
        case 'c': id.name_comment = true; break;
        case 's': id.ignore_return_path = true; break;
        case 'f': id.delete_from = true; break;
        case 'i': id.delete_message_id = true; break;
        case 'r': id.verp_recipient = true; break;
        case 'm': id.verp_message = true; break;
        default: break;  // qmail ignores letters it does not know
      }
    }
  }
  id.mft_file = first_env({"QMAILMFTFILE"});
  id.defaulthost = first_env({"QMAILDEFAULTHOST"});
  id.defaultdomain = first_env({"QMAILDEFAULTDOMAIN"});
  id.plusdomain = first_env({"QMAILPLUSDOMAIN"});
  id.idhost = first_env({"QMAILIDHOST"});
  id.now = time(nullptr);
  id.pid = getpid();
  return id;
}

Result make_config(Identity const& id, std::string_view defaulthost, std::string_view defaultdomain,
                   std::string_view plusdomain, std::string_view idhost, Config* out) {
  out->defaulthost = defaulthost;
  out->defaultdomain = defaultdomain;
  out->plusdomain = plusdomain;
  out->idhost = idhost;
  std::string bad;
  if (!out->qualify.init(defaulthost, defaultdomain, plusdomain, &bad)) {
    std::string_view v = bad == "defaulthost" ? defaulthost
                         : bad == "defaultdomain" ? defaultdomain : plusdomain;
    return temp(bad + " is not a host name: " + excerpt(v));
  }
  return {};
}

Result load_config(Identity const& id, Config* out) {
  std::string me;
  if (!conf::control_line("me", &me, ""))
    return temp("unable to read " + conf::control_path("me") + ": " + errstr());
  struct {
    char const* name;
    std::optional<std::string> const& over;
    std::string value;
  } names[] = {{"defaulthost", id.defaulthost, {}},
               {"defaultdomain", id.defaultdomain, {}},
               {"plusdomain", id.plusdomain, {}},
               {"idhost", id.idhost, {}}};
  for (auto& n : names) {
    if (n.over) {
      n.value = *n.over;
    } else if (!conf::control_line(n.name, &n.value, me.empty() ? n.name : me)) {
      return temp("unable to read " + conf::control_path(n.name) + ": " + errstr());
    }
  }
  if (Result r = make_config(id, names[0].value, names[1].value, names[2].value, names[3].value, out);
      !r.ok())
    return r;
  out->mailing_lists.clear();
  if (id.mft_file) {
    std::string data;
    if (read_file(id.mft_file->c_str(), &data, 16 << 20)) {
      std::string_view all(data);
      while (!all.empty()) {
        size_t nl = all.find('\n');
        std::string_view line = conf::trim(all.substr(0, nl));
        all = nl == std::string_view::npos ? std::string_view() : all.substr(nl + 1);
        if (!line.empty()) out->mailing_lists.emplace_back(line);
      }
    } else if (errno != ENOENT) {
      return temp("unable to read " + *id.mft_file + ": " + errstr());
    }
  }
  return {};
}

// --- the header ---

std::string HeaderRewriter::verp(std::string s) const {
  if (id_.verp_recipient && !s.empty()) s += "-@[]";
  return s;
}

Result HeaderRewriter::start() {
  if (opt_.sender) {
    std::string_view s = *opt_.sender;
    if (s.empty() || s == "<>") {
      sender_.clear();
    } else {
      Tokens t;
      if (!arg_address(s, &t)) return perm("unable to parse address: " + excerpt(s));
      cfg_.qualify(&t);
      sender_ = verp(unquote(t));
    }
    have_sender_ = true;
  }
  if (opt_.mode != Recipients::header) {
    for (std::string const& r : opt_.recipients) {
      Tokens t;
      if (!arg_address(r, &t)) return perm("unable to parse address: " + excerpt(r));
      cfg_.qualify(&t);
      args_.push_back(unquote(t));
    }
  }
  return {};
}

Result HeaderRewriter::field(std::string_view f) {
  Field k = field_kind(f);
  if ((id_.delete_from && k == Field::from) ||
      (id_.delete_message_id && k == Field::message_id) ||
      (id_.ignore_return_path && k == Field::return_path))
    return {};
  note(k);

  std::vector<std::string>* lists[2] = {nullptr, nullptr};
  std::string* bad = nullptr;  // set for recipient fields: they may fail to parse
  bool addresses = true;
  switch (k) {
    case Field::to: case Field::cc:
      lists[0] = &header_rcpts_;
      lists[1] = &to_cc_;
      bad = &bad_header_rcpts_;
      break;
    case Field::bcc: case Field::apparently_to:
      lists[0] = &header_rcpts_;
      bad = &bad_header_rcpts_;
      break;
    case Field::resent_to: case Field::resent_cc: case Field::resent_bcc:
      lists[0] = &resent_rcpts_;
      bad = &bad_resent_rcpts_;
      break;
    case Field::return_path: case Field::sender: case Field::from: case Field::reply_to:
    case Field::return_receipt_to: case Field::errors_to: case Field::resent_sender:
    case Field::resent_from: case Field::resent_reply_to:
      break;
    default:
      addresses = false;
      break;
  }

  std::string text;
  if (addresses) {
    Tokens in, out;
    std::vector<std::string> found;
    bool nul = false;
    bool parsed = tokenize(field_value(f), &in) &&
                  rewrite_address_list(in, &out, [&](Tokens* a) {
                    cfg_.qualify(a);
                    found.push_back(unquote(*a));
                    nul |= found.back().find('\0') != std::string::npos;
                  });
    if (!parsed || nul) {
      if (!bad) return perm("unable to parse this line: " + excerpt(f));
      if (bad->empty()) *bad = excerpt(f);
    } else {
      std::reverse(found.begin(), found.end());  // the walk goes right to left
      for (auto* l : lists)
        if (l) l->insert(l->end(), found.begin(), found.end());
      if (k == Field::return_path && !have_sender_ && !found.empty()) {
        sender_ = verp(found.front());
        have_sender_ = true;
      }
      std::string_view name = field_name(f);
      std::string r = render(out, name.size() + 2);
      text.reserve(name.size() + r.size() + 3);
      text.append(name).append(":");
      if (!r.empty()) text.append(" ").append(r);
      text.push_back('\n');
    }
  }
  switch (k) {
    case Field::bcc: case Field::resent_bcc: case Field::return_path: case Field::content_length:
      return {};
    default:
      break;
  }
  if (text.empty()) text = f;
  if (kept_bytes_ + text.size() > kMaxHeader)
    return perm("header too long (over " + fmt_u64(kMaxHeader) + " bytes)");
  kept_bytes_ += text.size();
  kept_.push_back(std::move(text));
  return {};
}

Result HeaderRewriter::default_from(std::string* out) const {
  Tokens t;
  bool angle = id_.name && !id_.name_comment;
  if (angle) {
    t.push_back(Token{Token::quoted, *id_.name});
    t.push_back(Token{Token::left, {}});
  }
  Tokens user = box_tokens(id_.user);
  t.insert(t.end(), user.begin(), user.end());
  if (id_.host) {
    Tokens host;
    if (!host_tokens(*id_.host, &host)) return perm("unable to parse host name: " + excerpt(*id_.host));
    t.push_back(Token{Token::at, {}});
    t.insert(t.end(), host.begin(), host.end());
  }
  if (angle) t.push_back(Token{Token::right, {}});
  if (id_.name && id_.name_comment) t.push_back(Token{Token::comment, *id_.name});
  Tokens o;
  if (!rewrite_address_list(t, &o, [&](Tokens* a) { cfg_.qualify(a); }))
    return perm("unable to parse user name: " + excerpt(id_.user));
  *out = "From: " + render(o, 6) + "\n";
  return {};
}

Result HeaderRewriter::default_sender() {
  std::string box = id_.suser.value_or(id_.user);
  if (id_.verp_message) box += "-" + fmt_u64(uint64_t(id_.now)) + "." + fmt_u64(uint64_t(id_.pid));
  if (id_.verp_recipient) box += "-";
  Tokens t{Token{Token::quoted, box}};
  std::optional<std::string> const& host = id_.shost ? id_.shost : id_.host;
  if (host) {
    Tokens h;
    if (!host_tokens(*host, &h)) return perm("unable to parse host name: " + excerpt(*host));
    t.push_back(Token{Token::at, {}});
    t.insert(t.end(), h.begin(), h.end());
  }
  cfg_.qualify(&t);
  sender_ = verp(unquote(t));
  have_sender_ = true;
  return {};
}

Result HeaderRewriter::finish(std::string* out) {
  out->clear();
  bool resent = false;
  for (Field k : {Field::resent_sender, Field::resent_from, Field::resent_reply_to, Field::resent_to,
                  Field::resent_cc, Field::resent_bcc, Field::resent_date, Field::resent_message_id})
    resent |= seen(k);
  if (!have_sender_)
    if (Result r = default_sender(); !r.ok()) return r;

  if (!opt_.queue) *out += "Return-Path: <" + (sender_.empty() ? "" : quote_address(sender_)) + ">\n";
  std::string prefix = resent ? "Resent-" : "";
  if (!seen(resent ? Field::resent_date : Field::date))
    *out += prefix + "Date: " + date822(id_.now) + "\n";
  if (!seen(resent ? Field::resent_message_id : Field::message_id))
    *out += prefix + "Message-ID: <" + fmt_u64(uint64_t(id_.now)) + "." + fmt_u64(uint64_t(id_.pid)) +
            ".qmail@" + cfg_.idhost + ">\n";
  if (!seen(resent ? Field::resent_from : Field::from)) {
    std::string from;
    if (Result r = default_from(&from); !r.ok()) return r;
    *out += prefix + from;
  }
  if (resent ? !seen(Field::resent_to) && !seen(Field::resent_cc)
             : !seen(Field::to) && !seen(Field::cc))
    *out += prefix + "Cc: recipient list not shown: ;\n";
  if (!resent && !seen(Field::mail_followup_to) && !cfg_.mailing_lists.empty()) {
    bool list = std::any_of(to_cc_.begin(), to_cc_.end(), [&](std::string const& a) {
      return std::any_of(cfg_.mailing_lists.begin(), cfg_.mailing_lists.end(),
                         [&](std::string const& l) { return same_address(a, l); });
    });
    if (list) {
      *out += "Mail-Followup-To: ";
      for (size_t i = 0; i < to_cc_.size(); i++) *out += (i ? ",\n  " : "") + quote_address(to_cc_[i]);
      *out += "\n";
    }
  }
  for (std::string& k : kept_) {
    out->append(k);
    std::string().swap(k);
  }
  kept_.clear();

  Recipients mode = opt_.mode;
  if (mode == Recipients::args_else_header)
    mode = opt_.recipients.empty() ? Recipients::header : Recipients::args;
  std::vector<std::string const*> all;
  if (mode != Recipients::header)
    for (auto const& r : args_) all.push_back(&r);
  if (mode != Recipients::args) {
    std::string const& bad = resent ? bad_resent_rcpts_ : bad_header_rcpts_;
    if (!bad.empty() && opt_.queue) return perm("unable to parse this line: " + bad);
    for (auto const& r : resent ? resent_rcpts_ : header_rcpts_) all.push_back(&r);
  }
  std::unordered_set<std::string_view> dup;
  recipients_.clear();
  for (std::string const* r : all)
    if (!r->empty() && dup.insert(*r).second) recipients_.push_back(*r);
  if (opt_.queue && recipients_.empty()) return perm("no recipients");
  return {};
}

// --- the whole program ---

namespace {

// Buffered output to a descriptor for -n; remembers the first error.
class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
  void put(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= (1 << 16)) flush();
  }
  bool flush() {
    if (!failed_ && !buf_.empty() && !write_all(fd_, buf_)) failed_ = true;
    buf_.clear();
    return !failed_;
  }

 private:
  int fd_;
  bool failed_ = false;
  std::string buf_;
};

Result field_too_long() {
  return perm("header field too long (over " + fmt_u64(kMaxField) + " bytes)");
}

}  // namespace

Result inject(Options const& opt, Identity const& id, Config const& cfg, int in, int out) {
  HeaderRewriter h(opt, id, cfg);
  if (Result r = h.start(); !r.ok()) return r;

  // The header: fields until a blank line, or until a line that cannot start
  // a field, which begins the body after a blank line we supply (qmail).
  LineReader rd(in);
  std::string line, field, body_start;
  bool have_field = false;
  for (;;) {
    LineReader::Status st = rd.line(&line, kMaxField);
    if (st == LineReader::Status::error) return temp("unable to read input: " + errstr());
    if (st == LineReader::Status::eof) break;
    bool whole = st == LineReader::Status::line;
    if (have_field && (line[0] == ' ' || line[0] == '\t')) {
      if (!whole || field.size() + line.size() > kMaxField) return field_too_long();
      field += line;
      continue;
    }
    if (have_field) {
      if (Result r = h.field(field); !r.ok()) return r;
      have_field = false;
    }
    if (whole && (line == "\n" || line == "\r\n")) {
      body_start = line;
      break;
    }
    if (line.starts_with("From ")) {  // an mbox separator kept as a field
      if (!whole || line.size() + 11 > kMaxField) return field_too_long();
      field = "MBOX-Line: " + line;
    } else if (starts_field(line)) {
      if (!whole) return field_too_long();
      field.swap(line);
    } else {
      body_start = "\n" + line;
      break;
    }
    have_field = true;
  }
  if (have_field)
    if (Result r = h.field(field); !r.ok()) return r;
  std::string().swap(field);
  std::string().swap(line);

  std::string head;
  if (Result r = h.finish(&head); !r.ok()) return r;

  queue::QueueClient client;
  Writer w(out);
  if (opt.queue && !client.open()) return temp("unable to start qmail-queue: " + errstr());
  auto put = [&](std::string_view s) {
    if (opt.queue)
      client.put(s);
    else
      w.put(s);
  };
  put(head);
  std::string().swap(head);
  put(body_start);
  bool any = !body_start.empty();
  char last = any ? body_start.back() : '\n';
  // A read error returns with the client still open: its destructor closes both pipes
  // before an envelope was sent, so qmail-queue commits nothing.
  for (;;) {
    std::string_view v;
    ssize_t n = rd.chunk(&v);
    if (n < 0) return temp("unable to read input: " + errstr());
    if (n == 0) break;
    put(v);
    any = true;
    last = v.back();
  }
  if (any && last != '\n') put("\n");

  if (!opt.queue) {
    if (!w.flush()) return temp("unable to write output: " + errstr());
    return {};
  }
  int code = client.close(h.sender(), h.recipients());
  if (code == qq::ok) return {};
  char const* why = qq::describe(code);
  return Result{*why == 'D' ? ex::perm : ex::temp, why + 1};
}

}  // namespace qf::inject
