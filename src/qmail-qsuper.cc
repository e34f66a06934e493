// ISC license.
// qmail-qsuper: hold, release, requeue, delete or expire queued mail, pause
// and resume destinations. See qmail-qsuper(8).
#include <errno.h>
#include <regex.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "queue/admin.h"
#include "queue/trigger.h"
#include "send/settings.h"
#include "sys/exitcodes.h"
#include "sys/fs.h"
#include "sys/strerr.h"

char const* PROG = "qmail-qsuper";

namespace {

constexpr char kUsage[] =
    "qmail-qsuper [ -n ] [ -q queuedir ] [ -D domain ] [ -S sender ] [ -o age ] [ -y age ] "
    "[ -z bytes ] [ -Z bytes ] [ -Q n ] [ -g regex ] -h|-H|-r|-d|-e [ id ... | ALL | - ]\n"
    "       qmail-qsuper [ -q queuedir ] -p destination | -P destination | -l";

using namespace qf;
using queue::Action;

uint64_t number(char const* s) {
  uint64_t v;
  if (!scan_u64(s, &v)) die_usage(kUsage);
  return v;
}

time_t age(char const* s) {
  time_t t;
  if (!send::parse_duration(s, 's', &t)) die_usage(kUsage);
  return t;
}

void add_id(std::string_view tok, queue::Selector* sel) {
  uint64_t id;
  if (tok == "ALL") sel->all = true;
  else if (scan_u64(tok, &id)) sel->ids.push_back(id);
  else die(ex::perm, "not a message id: ", std::string(tok).c_str());
}

void out(std::string* buf, std::string const& line) {
  *buf += line;
  *buf += '\n';
  if (buf->size() > 65536) {
    write_all(1, *buf);
    buf->clear();
  }
}

// Root, or the owner of the queue's info/ (qmails; the caller itself in an
// unprivileged instance).
void check_privileges(queue::Layout const& q) {
  if (::geteuid() == 0) return;
  struct stat st;
  std::string info = q.dir(queue::Dir::info);
  if (::stat(info.c_str(), &st) < 0 || st.st_uid != ::geteuid())
    die(ex::perm, "must run as root or as the owner of ", info.c_str(), " (qmails)");
}

int pause_command(char mode, std::string const& dest, std::vector<std::string> const& dirs) {
  if (mode == 'l') {
    std::vector<std::string> v;
    if (!queue::paused_read(&v)) die_sys(ex::temp, "unable to read control/paused");
    std::string b;
    for (auto const& l : v) b += l + "\n";
    write_all(1, b);
    return ex::ok;
  }
  std::string pat = queue::paused_pattern(dest);
  if (pat.empty()) die(ex::perm, "not a destination: ", dest.c_str());
  bool changed;
  if (!queue::paused_change(pat, mode == 'p', &changed))
    die_sys(ex::temp, "unable to update control/paused");
  for (auto const& d : dirs) queue::send_notes(queue::Layout::from_env(d), "P");
  write_all(1, pat + (mode == 'p' ? (changed ? ": paused\n" : ": already paused\n")
                                  : (changed ? ": resumed\n" : ": not paused\n")));
  return ex::ok;
}

}  // namespace

int main(int argc, char** argv) {
  queue::Selector sel;
  std::vector<std::string> dirs;
  bool dry = false, any_filter = false;
  int action = -1;
  char pause_mode = 0;
  std::string pause_dest;
  int opt;
  while ((opt = getopt(argc, argv, "nq:hHrdeD:S:o:y:z:Z:Q:g:p:P:l")) != -1) {
    switch (opt) {
      case 'n': dry = true; break;
      case 'q': dirs.push_back(optarg); break;
      case 'h': action = int(Action::hold); break;
      case 'H': action = int(Action::release); break;
      case 'r': action = int(Action::requeue); break;
      case 'd': action = int(Action::remove); break;
      case 'e': action = int(Action::expire); break;
      case 'D': sel.rcpt_domain = optarg; any_filter = true; break;
      case 'S': {
        std::string s = optarg;
        sel.sender = s == "<>" ? "" : s;
        any_filter = true;
        break;
      }
      case 'o': sel.older = age(optarg); any_filter = true; break;
      case 'y': sel.younger = age(optarg); any_filter = true; break;
      case 'z': sel.larger = number(optarg); any_filter = true; break;
      case 'Z': sel.smaller = number(optarg); any_filter = true; break;
      case 'Q': sel.queue = unsigned(number(optarg)); any_filter = true; break;
      case 'g': {
        auto re = std::shared_ptr<regex_t>(new regex_t, [](regex_t* r) {
          regfree(r);
          delete r;
        });
        if (regcomp(re.get(), optarg, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
          die(ex::perm, "bad regular expression: ", optarg);
        sel.header = re;
        any_filter = true;
        break;
      }
      case 'p': case 'P': pause_mode = char(opt); pause_dest = optarg; break;
      case 'l': pause_mode = 'l'; break;
      default: die_usage(kUsage);
    }
  }
  if (dirs.empty()) dirs = queue::flush_targets();
  if (pause_mode) {
    if (action >= 0 || optind != argc) die_usage(kUsage);
    return pause_command(pause_mode, pause_dest, dirs);
  }
  if (action < 0) die_usage(kUsage);
  Action a = Action(action);
  for (int i = optind; i < argc; i++) {
    if (std::strcmp(argv[i], "-") == 0) {
      std::string in, tok;
      char buf[8192];
      ssize_t r;
      while ((r = ::read(0, buf, sizeof buf)) > 0) in.append(buf, size_t(r));
      if (r < 0) die_sys(ex::temp, "unable to read the ids on stdin");
      for (char c : in) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          if (!tok.empty()) add_id(tok, &sel);
          tok.clear();
        } else {
          tok.push_back(c);
        }
      }
      if (!tok.empty()) add_id(tok, &sel);
    } else {
      add_id(argv[i], &sel);
    }
  }
  if (!sel.all && sel.ids.empty()) {
    if (!any_filter) die_usage(kUsage);
    sel.all = true;  // a selector alone means every message it selects
  }

  time_t now = ::time(nullptr);
  std::vector<queue::AdminQueue> queues;
  for (auto const& d : dirs) {
    queue::Layout q = queue::Layout::from_env(d);
    check_privileges(q);
    queues.emplace_back(q, queue::queue_number(d));
  }
  uint64_t changed = 0, failed = 0, found = 0;
  unsigned touched = 0;
  std::string buf;
  for (auto& aq : queues) {
    if (sel.queue && *sel.queue != aq.number()) continue;
    if (!dry && !aq.lock()) {
      warn_sys("unable to open ", aq.layout().lock("sendmutex").c_str());
      failed++;
      continue;
    }
    bool ok = true;
    std::vector<uint64_t> ids = sel.all ? aq.messages(&ok) : sel.ids;
    if (!ok) {
      warn("unable to list every message of ", aq.name().c_str());
      failed++;
    }
    uint64_t here = 0;
    for (uint64_t id : ids) {
      queue::MessageView m;
      if (!queue::view_message(aq.layout(), id, sel, &m)) continue;
      found++;
      if (!queue::matches(sel, aq.number(), m, aq.layout(), now)) continue;
      std::string why;
      int r = dry ? (a == Action::hold && m.held ? 0 : a == Action::release && !m.held ? 0 : 1)
                  : aq.apply(a, m, now, &why);
      std::string label = aq.name() + " " + fmt_u64(id);
      if (r > 0) {
        out(&buf, label + " " + queue::action_verb(a, dry));
        changed++;
        here++;
      } else if (r < 0) {
        warn(label.c_str(), ": ", why.c_str());
        failed++;
      } else if (!sel.all && !why.empty()) {
        out(&buf, label + " unchanged: " + why);
      }
    }
    if (!dry && !aq.finish(a)) {
      warn("unable to sync the directories of ", aq.name().c_str(), "; run it again");
      failed++;
    }
    if (here) touched++;
  }
  std::string sum = std::string("qmail-qsuper: ") + (dry ? "dry run: " : "") + fmt_u64(changed) +
                    " message(s) " + queue::action_verb(a, dry) + " in " + fmt_u64(touched) + " queue(s)";
  if (failed) sum += ", " + fmt_u64(failed) + " failure(s)";
  out(&buf, sum);
  write_all(1, buf);
  if (failed) return ex::temp;
  if (!sel.all && found == 0) {
    warn("no such message");
    return ex::perm;
  }
  return ex::ok;
}
