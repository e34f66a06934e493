// ISC license.
#include "deliver/local.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <string_view>
#include <vector>

#include "conf/control.h"
#include "deliver/dotqmail.h"
#include "deliver/lines.h"
#include "deliver/maildir.h"
#include "deliver/mbox.h"
#include "deliver/message.h"
#include "deliver/outcome.h"
#include "deliver/program.h"
#include "queue/client.h"
#include "sys/exitcodes.h"
#include "sys/fd.h"
#include "sys/fs.h"
#include "sys/timefmt.h"

extern char** environ;

namespace qf::deliver {

namespace {

// Group- or world-writable: someone else could rewrite the instructions.
constexpr mode_t kWritableByOthers = 022;

char const* const kOurVariables[] = {
    "USER",  "HOME", "LOCAL", "HOST",  "SENDER", "NEWSENDER", "RECIPIENT", "DTLINE", "RPLINE",
    "UFLINE", "EXT", "EXT2",  "EXT3",  "EXT4",   "DEFAULT",   "HOST2",     "HOST3",  "HOST4"};

// Errors that mean "this file is not there" rather than "cannot tell now".
bool is_absent(int err) {
  return err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG || err == ELOOP;
}

// Carries the state of one delivery through its steps.
class Delivery {
 public:
  Delivery(LocalDelivery const& d, int messfd, std::string* report)
      : d_(d), messfd_(messfd), report_(report) {}

  int run();

 private:
  Outcome check_home();
  Outcome check_loop();
  void set_environment();
  Outcome find_instructions(std::string* text, bool* forward_only, bool* found);
  Outcome owner_exists(std::string const& name, bool* exists);
  Outcome compute_newsender();
  Outcome perform(std::vector<Action> const& actions, bool forward_only);
  Outcome run_command(std::string const& command, bool* stop);
  Outcome forward(std::vector<std::string> const& rcpts);
  void put(std::string_view key, std::string_view value);
  int finish(Outcome const& o);

  LocalDelivery const& d_;
  int messfd_;
  std::string* report_;
  Fd home_;
  int64_t deadline_ = 0;
  std::string dtline_, rpline_, ufline_, safeext_, newsender_;
  std::vector<std::string> env_;
  unsigned files_ = 0, forwards_ = 0, programs_ = 0;
  pid_t qp_ = 0;
};

void Delivery::put(std::string_view key, std::string_view value) {
  std::string e(key);
  e += '=';
  e += value;
  env_.push_back(std::move(e));
}

int Delivery::finish(Outcome const& o) {
  if (!o.text.empty()) {
    report_->append(o.text);
    if (o.text.back() != '\n') report_->push_back('\n');
  }
  return o.code;
}

Outcome Delivery::check_home() {
  if (d_.home.empty() || d_.home[0] != '/')
    return Outcome::temp("Home directory " + d_.home + " is not an absolute path. (#4.3.0)");
  home_.reset(::open(d_.home.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!home_.ok())
    return Outcome::temp("Unable to switch to " + d_.home + ": " + error_text(errno) +
                         ". (#4.3.0)");
  struct stat st;
  if (::fstat(home_.get(), &st) < 0)
    return Outcome::temp("Unable to stat home directory: " + error_text(errno) + ". (#4.3.0)");
  if (st.st_mode & kWritableByOthers)
    return Outcome::temp("Uh-oh: home directory is writable. (#4.7.0)");
  if (st.st_mode & S_ISVTX) {
    if (!d_.dry_run)
      return Outcome::temp("Home directory is sticky: user is editing his .qmail file. (#4.2.1)");
    report_->append("Warning: home directory is sticky.\n");
  }
  return Outcome::success();
}

Outcome Delivery::check_loop() {
  MessageReader r(messfd_);
  std::string line;
  bool cut;
  for (;;) {
    // Only a line as long as ours can match: never hold more of a long one.
    int got = r.getline(&line, dtline_.size() + 2, &cut);
    if (got < 0)
      return Outcome::temp("Unable to read message: " + error_text(errno) + ". (#4.3.0)");
    if (got == 0) return Outcome::success();  // a last line without newline is not a header
    if (line == "\n" || line == "\r\n") return Outcome::success();
    if (!cut && is_our_delivered_to(line, dtline_))
      return Outcome::perm(
          "This message is looping: it already has my Delivered-To line. (#5.4.6)");
  }
}

void Delivery::set_environment() {
  for (char** e = environ; e && *e; e++) {
    std::string_view v(*e);
    std::string_view name = v.substr(0, v.find('='));
    bool ours = false;
    for (char const* o : kOurVariables) ours |= name == o;
    if (!ours) env_.emplace_back(v);
  }
  std::string recipient = d_.local + "@" + d_.host;
  put("HOST", d_.host);
  put("HOME", d_.home);
  put("USER", d_.user);
  put("LOCAL", d_.local);
  put("RECIPIENT", recipient);
  put("DTLINE", dtline_);
  put("SENDER", d_.sender);
  put("RPLINE", rpline_);
  put("UFLINE", ufline_);
  put("EXT", d_.ext);
  put("EXT2", ext_after_dashes(d_.ext, 1));
  put("EXT3", ext_after_dashes(d_.ext, 2));
  put("EXT4", ext_after_dashes(d_.ext, 3));
  put("HOST2", host_without_parts(d_.host, 1));
  put("HOST3", host_without_parts(d_.host, 2));
  put("HOST4", host_without_parts(d_.host, 3));
}

Outcome Delivery::find_instructions(std::string* text, bool* forward_only, bool* found) {
  *found = false;
  for (Candidate const& c : candidates(d_.dash, safeext_)) {
    // O_NONBLOCK: a fifo named like a .qmail file must not hang us.
    Fd fd(::openat(home_.get(), c.file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.ok()) {
      if (is_absent(errno)) continue;
      return Outcome::temp("Unable to open " + c.file + ": " + error_text(errno) + ". (#4.3.0)");
    }
    struct stat st;
    if (::fstat(fd.get(), &st) < 0)
      return Outcome::temp("Unable to open " + c.file + ": " + error_text(errno) + ". (#4.3.0)");
    if (!S_ISREG(st.st_mode)) continue;
    if (st.st_mode & kWritableByOthers)
      return Outcome::temp("Uh-oh: .qmail file is writable. (#4.7.0)");
    *forward_only = st.st_mode & S_IXUSR;
    if (c.default_from != std::string::npos && c.default_from <= d_.ext.size())
      put("DEFAULT", d_.ext.substr(c.default_from));
    text->clear();
    char buf[8192];
    for (;;) {
      ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0)
        return Outcome::temp("Unable to read " + c.file + ": " + error_text(errno) + ". (#4.3.0)");
      if (r == 0) break;
      if (text->size() + size_t(r) > (16u << 20))
        return Outcome::temp("Unable to read " + c.file + ": file too large. (#4.3.0)");
      text->append(buf, size_t(r));
    }
    *found = true;
    return Outcome::success();
  }
  return Outcome::success();
}

Outcome Delivery::owner_exists(std::string const& name, bool* exists) {
  struct stat st;
  *exists = ::fstatat(home_.get(), name.c_str(), &st, 0) == 0;
  if (!*exists && !is_absent(errno))
    return Outcome::temp("Unable to open " + name + ": " + error_text(errno) + ". (#4.3.0)");
  return Outcome::success();
}

// Forwards carry the list owner as sender when .qmail-EXT-owner exists (and a
// VERP owner when .qmail-EXT-owner-default exists too), as in qmail.
Outcome Delivery::compute_newsender() {
  newsender_ = d_.sender;
  if (d_.sender.empty() || d_.sender == "#@[]") return Outcome::success();
  std::string base = ".qmail" + d_.dash + safeext_ + "-owner";
  bool owner, owner_default;
  if (Outcome o = owner_exists(base, &owner); !o.ok()) return o;
  if (!owner) return Outcome::success();
  if (Outcome o = owner_exists(base + "-default", &owner_default); !o.ok()) return o;
  if (owner_default)
    newsender_ = d_.local + "-owner-@" + d_.host + "-@[]";
  else
    newsender_ = d_.local + "-owner@" + d_.host;
  return Outcome::success();
}

Outcome Delivery::run_command(std::string const& command, bool* stop) {
  int64_t left = deadline_ - monotonic_ms();
  if (left <= 0) left = 1;
  ProgramResult r =
      run_program(home_.get(), command, env_, messfd_, left, kMaxProgramOutput);
  report_->append(r.output);
  if (r.truncated) report_->append("\n(program output truncated)\n");
  std::string code = fmt_u64(uint64_t(r.status));
  switch (r.how) {
    case ProgramResult::not_started:
      return Outcome::temp("Unable to fork: " + error_text(r.err) + ". (#4.3.0)");
    case ProgramResult::timed_out:
      return Outcome::temp("Timeout: program still running after " + fmt_u64(d_.timeout) +
                           " seconds; killed. (#4.3.0)");
    case ProgramResult::signaled:
      return Outcome::temp("Aack, child crashed. (#4.3.0)");
    case ProgramResult::exited:
      break;
  }
  // qmail-command(8): 99 stops, 100 and the permanent sysexits bounce.
  switch (r.status) {
    case 0:
      return Outcome::success();
    case 99:
      *stop = true;
      return Outcome::success();
    case 100: case 64: case 65: case 70: case 76: case 77: case 78: case 112:
      return Outcome::perm(r.output.empty() ? "Program exited " + code + ". (#5.3.0)" : "");
    default:
      return Outcome::temp(r.output.empty() ? "Program exited " + code + ". (#4.3.0)" : "");
  }
}

Outcome Delivery::forward(std::vector<std::string> const& rcpts) {
  queue::QueueClient qq;
  if (!qq.open()) return Outcome::temp("Unable to fork: " + error_text(errno) + ". (#4.3.0)");
  qp_ = qq.pid();
  qq.put(dtline_);
  MessageReader r(messfd_);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = r.read(buf, sizeof buf);
    // Returning without close() ends the envelope early: qmail-queue queues nothing.
    if (n < 0) return Outcome::temp("Unable to read message: " + error_text(errno) + ". (#4.3.0)");
    if (n == 0) break;
    qq.put(std::string_view(buf, size_t(n)));
  }
  int code = qq.close(newsender_, rcpts);
  if (code == qq::ok) return Outcome::success();
  char const* why = qq::describe(code);
  std::string text = std::string("Unable to forward message: ") + (why + 1) + ".";
  return why[0] == 'D' ? Outcome::perm(text) : Outcome::temp(text);
}

Outcome Delivery::perform(std::vector<Action> const& actions, bool forward_only) {
  std::vector<std::string> rcpts;
  std::string prefix = rpline_ + dtline_;
  for (Action const& a : actions) {
    bool stop = false;
    switch (a.kind) {
      case Action::list:
        forward_only = true;
        break;
      case Action::maildir:
      case Action::mbox: {
        files_++;
        if (forward_only)
          return Outcome::temp("Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)");
        bool md = a.kind == Action::maildir;
        if (d_.dry_run) {
          report_->append((md ? "maildir " : "mbox ") + a.arg + "\n");
          break;
        }
        Outcome o = md ? deliver_maildir(home_.get(), a.arg, prefix, messfd_)
                       : deliver_mbox(home_.get(), a.arg, ufline_ + prefix, messfd_);
        if (!o.ok()) return o;
        break;
      }
      case Action::program: {
        programs_++;
        if (forward_only)
          return Outcome::temp("Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)");
        if (d_.dry_run) {
          report_->append("program " + a.arg + "\n");
          break;
        }
        Outcome o = run_command(a.arg, &stop);
        if (!o.ok()) return o;
        break;
      }
      case Action::forward:
        forwards_++;
        if (d_.dry_run)
          report_->append("forward " + a.arg + "\n");
        else
          rcpts.push_back(a.arg);
        break;
    }
    if (stop) break;
  }
  if (!rcpts.empty()) return forward(rcpts);
  return Outcome::success();
}

int Delivery::run() {
  deadline_ = monotonic_ms() + int64_t(d_.timeout) * 1000;
  if (Outcome o = check_home(); !o.ok()) return finish(o);
  if (!seekable(messfd_)) return finish(Outcome::temp("Unable to rewind message. (#4.3.0)"));

  dtline_ = delivered_to_line(d_.local, d_.host);
  if (!d_.dry_run)
    if (Outcome o = check_loop(); !o.ok()) return finish(o);
  rpline_ = return_path_line(d_.sender);
  ufline_ = from_line(d_.sender, d_.now ? d_.now : ::time(nullptr));
  if (!safe_ext(d_.ext, &safeext_))
    return finish(Outcome::perm("Sorry, no mailbox here by that name. (#5.1.1)"));
  set_environment();

  std::string text;
  bool forward_only = false, found;
  if (Outcome o = find_instructions(&text, &forward_only, &found); !o.ok()) return finish(o);
  if (!found && !d_.dash.empty())
    return finish(Outcome::perm("Sorry, no mailbox here by that name. (#5.1.1)"));
  if (Outcome o = compute_newsender(); !o.ok()) return finish(o);
  put("NEWSENDER", newsender_);

  if (text.empty()) {
    text = d_.default_delivery;
    forward_only = false;
  }
  std::vector<Action> actions;
  std::string err;
  if (!parse_instructions(text, &actions, &err)) return finish(Outcome::temp(err));
  if (Outcome o = perform(actions, forward_only); !o.ok()) return finish(o);

  report_->append("did " + fmt_u64(files_) + "+" + fmt_u64(forwards_) + "+" +
                  fmt_u64(programs_) + "\n");
  if (qp_ > 0) report_->append("qp " + fmt_u64(uint64_t(qp_)) + "\n");
  return ex::ok;
}

}  // namespace

bool read_timeoutlocal(unsigned* out) {
  uint64_t n;
  if (!conf::control_uint("timeoutlocal", &n, kDefaultTimeoutLocal)) return false;
  if (n == 0 || n > 100u * 365 * 86400) {
    errno = EINVAL;
    return false;
  }
  *out = unsigned(n);
  return true;
}

int deliver_local(LocalDelivery const& d, int messfd, std::string* report) {
  return Delivery(d, messfd, report).run();
}

}  // namespace qf::deliver
