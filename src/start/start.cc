// ISC license.
#include "start/start.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "conf/paths.h"
#include "conf/users.h"
#include "sys/exitcodes.h"
#include "sys/strerr.h"

namespace qf::start {

namespace {

struct Ids {
  uid_t uid;
  gid_t gid;
  std::string name;  // for initgroups
};

// Puts each src fd at its dst number, whatever the overlaps; everything else
// keeps its close-on-exec flag.
void place_fds(std::vector<std::pair<int, int>> const& map) {
  std::vector<std::pair<int, int>> tmp;
  for (auto [src, dst] : map) {
    int t = ::fcntl(src, F_DUPFD_CLOEXEC, 64);
    if (t < 0) _exit(ex::temp);
    tmp.emplace_back(t, dst);
  }
  for (auto [t, dst] : tmp)
    if (::dup2(t, dst) < 0) _exit(ex::temp);
}

void become(Ids const& id, bool privileged) {
  if (!privileged) return;
  bool supplementary = !id.name.empty() && conf::use_setgroups_for(id.name);
  if (supplementary && !id.name.empty()) {
    if (::initgroups(id.name.c_str(), id.gid) < 0) _exit(ex::temp);
  } else if (::setgroups(1, &id.gid) < 0) {
    _exit(ex::temp);
  }
  if (::setgid(id.gid) < 0 || ::setuid(id.uid) < 0) _exit(ex::temp);
  if (id.uid != 0 && (::getuid() != id.uid || ::geteuid() != id.uid)) _exit(ex::temp);
}

[[noreturn]] void exec(std::vector<std::string> const& args, bool path_search) {
  std::vector<char*> argv;
  for (auto const& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (path_search)
    ::execvp(argv[0], argv.data());
  else
    ::execv(argv[0], argv.data());
  _exit(ex::temp);
}

struct Pipe {
  int r = -1, w = -1;
};

Pipe make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) die_sys(ex::temp, "unable to create pipe");
  return {p[0], p[1]};
}

pid_t child(std::vector<std::pair<int, int>> const& fds, Ids const& id, bool privileged,
            std::vector<std::string> const& args, bool path_search = false) {
  pid_t pid = ::fork();
  if (pid < 0) die_sys(ex::temp, "unable to fork");
  if (pid == 0) {
    place_fds(fds);
    become(id, privileged);
    exec(args, path_search);
  }
  return pid;
}

// Makes a relative path absolute, so every daemon sees the same queue.
void absolutize(char const* var) {
  char const* v = getenv(var);
  if (!v || !*v || v[0] == '/') return;
  char buf[PATH_MAX];
  if (::realpath(v, buf)) ::setenv(var, buf, 1);
}

}  // namespace

int qmail_start(int argc, char** argv) {
  ::umask(077);
  // fds 0, 1, 2 must exist before pipes are made, or a pipe would take their place.
  for (int fd = 0; fd < 3; fd++)
    if (::fcntl(fd, F_GETFD) < 0) {
      int n = ::open("/dev/null", O_RDWR);
      if (n != fd) return ex::temp;
    }
  for (char const* v : {"QUEUEDIR", "QMAILHOME", "CONTROLDIR", "QUEUE_BASE"}) absolutize(v);

  bool priv = conf::privileged();
  Ids send{::getuid(), ::getgid(), ""}, lspawn = send, rspawn = send, clean = send, logger = send;
  if (priv) {
    auto look = [](conf::User u, conf::Group g, Ids* out) {
      conf::Account a;
      if (!conf::find_user(u, &a)) die(ex::temp, "unable to find user ", conf::user_name(u));
      gid_t gid;
      if (!conf::find_group(g, &gid)) die(ex::temp, "unable to find group ", conf::group_name(g));
      *out = {a.uid, gid, a.name};
    };
    look(conf::User::qmails, conf::Group::qmail, &send);
    look(conf::User::qmailr, conf::Group::qmail, &rspawn);
    look(conf::User::qmailq, conf::Group::qmail, &clean);
    look(conf::User::qmaill, conf::Group::nofiles, &logger);
    lspawn = {0, send.gid, ""};  // root, group qmail
  }

  std::string dd = argc > 1 ? argv[1] : "./Mailbox";
  Pipe tolspawn = make_pipe(), fromlspawn = make_pipe(), torspawn = make_pipe(),
       fromrspawn = make_pipe(), toclean = make_pipe(), fromclean = make_pipe(),
       totodo = make_pipe(), fromtodo = make_pipe(), toclean2 = make_pipe(),
       fromclean2 = make_pipe();
  int err = ::fcntl(2, F_DUPFD_CLOEXEC, 64);
  int logfd = 1;
  if (argc > 2) {
    Pipe log = make_pipe();
    std::vector<std::string> args(argv + 2, argv + argc);
    child({{log.r, 0}, {1, 1}, {err, 2}}, logger, priv, args, true);
    ::close(log.r);
    logfd = log.w;
  }
  child({{tolspawn.r, 0}, {fromlspawn.w, 1}, {err, 2}}, lspawn, priv,
        {conf::program("qmail-lspawn"), dd});
  child({{torspawn.r, 0}, {fromrspawn.w, 1}, {err, 2}}, rspawn, priv,
        {conf::program("qmail-rspawn")});
  child({{toclean.r, 0}, {fromclean.w, 1}, {err, 2}}, clean, priv,
        {conf::program("qmail-clean")});
  child({{toclean2.r, 0}, {fromclean2.w, 1}, {err, 2}}, clean, priv,
        {conf::program("qmail-clean")});
  child({{totodo.r, 0}, {fromtodo.w, 1}, {toclean2.w, 2}, {fromclean2.r, 3}}, send, priv,
        {conf::program("todo-proc")});
  // qmail-queued (as qmailq, like qmail-clean) leaves when qmail-send's fd 9 closes.
  // qmail-send learns its pid from QMAILQUEUED_PID: qmail-queued has no pipe
  // back to qmail-send, so its death shows only as SIGCHLD.
  Pipe life = make_pipe();
  pid_t queued = child({{life.r, 0}, {err, 2}}, clean, priv, {conf::program("qmail-queued")});
  ::close(life.r);
  ::setenv("QMAILQUEUED_PID", std::to_string(queued).c_str(), 1);

  place_fds({{logfd, 0},
             {tolspawn.w, 1},
             {fromlspawn.r, 2},
             {torspawn.w, 3},
             {fromrspawn.r, 4},
             {toclean.w, 5},
             {fromclean.r, 6},
             {totodo.w, 7},
             {fromtodo.r, 8},
             {life.w, 9}});
  become(send, priv);
  exec({conf::program("qmail-send")}, false);
}

}  // namespace qf::start
