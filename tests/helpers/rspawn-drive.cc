// ISC license.
// rspawn-drive [-c concurrency] prog [args...]: plays qmail-send to a spawner.
// Starts prog with a command pipe on its fd 0 and a report pipe on its fd 1,
// reads the slot count, then runs the script on stdin, one line each:
//   id sender rcpt [rcpt ...]   a command (waits for a free slot first)
//   wait                        waits until every command has its report
//   sleep SECONDS               waits, then sleeps
// Prints "slots N" first, then per recipient of every report, in arrival order:
//   id rcpt status text        (newlines in text shown as '/')
// At the end of the script it closes the command pipe and waits for prog;
// the last line is "exit N". Exits 111 on trouble.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "proto/spawn.h"
#include "sys/fs.h"
#include "sys/skalibs.h"

char const* PROG = "rspawn-drive";

namespace {

struct Pending {
  uint64_t id;
  std::vector<std::string> rcpts;
};

int to_child = -1, from_child = -1;
std::map<unsigned, Pending> busy;
std::vector<bool> slot_used;
qf::spawn::ReportReader* reader = nullptr;

[[noreturn]] void fatal(char const* what) {
  fprintf(stderr, "rspawn-drive: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

// Reads reports until at most max commands are outstanding.
void drain(size_t max) {
  while (busy.size() > max) {
    char buf[65536];
    ssize_t r = ::read(from_child, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      fprintf(stderr, "rspawn-drive: fatal: spawner closed its report pipe with %zu outstanding\n",
              busy.size());
      exit(111);
    }
    size_t pos = 0;
    while (pos < size_t(r)) {
      size_t used;
      auto st = reader->feed(buf + pos, size_t(r) - pos, &used);
      pos += used;
      if (st == qf::spawn::ReportReader::Status::bad) {
        fprintf(stderr, "rspawn-drive: fatal: bad report\n");
        exit(111);
      }
      if (st != qf::spawn::ReportReader::Status::report) continue;
      unsigned s = reader->slot();
      auto res = reader->take();
      Pending& p = busy[s];
      for (size_t i = 0; i < res.size(); i++) {
        std::string t = res[i].text;
        for (char& c : t)
          if (c == '\n') c = '/';
        printf("%llu %s %c %s\n", (unsigned long long)p.id, p.rcpts[i].c_str(), res[i].status,
               t.c_str());
      }
      fflush(stdout);
      busy.erase(s);
      slot_used[s] = false;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  size_t conc = 20;
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "-c")) {
    conc = strtoul(argv[i + 1], nullptr, 10);
    i += 2;
  }
  if (i >= argc) {
    fprintf(stderr, "rspawn-drive: usage: rspawn-drive [-c concurrency] prog [args...]\n");
    return 100;
  }
  signal(SIGPIPE, SIG_IGN);
  int a[2], b[2];
  if (pipe(a) < 0 || pipe(b) < 0) fatal("unable to make pipes");
  pid_t pid = fork();
  if (pid < 0) fatal("unable to fork");
  if (pid == 0) {
    dup2(a[0], 0);
    dup2(b[1], 1);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    execvp(argv[i], argv + i);
    _exit(111);
  }
  close(a[0]), close(b[1]);
  to_child = a[1];
  from_child = b[0];
  unsigned char sb[2];
  if (qf::read_full(from_child, reinterpret_cast<char*>(sb), 2) != 2) fatal("no slot count");
  unsigned slots = sb[0] | sb[1] << 8;
  printf("slots %u\n", slots);
  fflush(stdout);
  if (conc > slots) conc = slots;
  slot_used.assign(slots, false);
  qf::spawn::ReportReader rr([](unsigned s) -> size_t {
    auto it = busy.find(s);
    return it == busy.end() ? 0 : it->second.rcpts.size();
  });
  reader = &rr;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string first;
    if (!(in >> first)) continue;
    if (first == "wait") {
      drain(0);
      continue;
    }
    if (first == "sleep") {
      double secs = 0;
      in >> secs;
      drain(0);
      usleep(useconds_t(secs * 1e6));
      continue;
    }
    qf::spawn::Command c;
    c.id = strtoull(first.c_str(), nullptr, 10);
    in >> c.sender;
    if (c.sender == "<>") c.sender.clear();
    std::string r;
    while (in >> r) c.rcpts.push_back(r);
    if (c.rcpts.empty()) continue;
    drain(conc - 1);
    unsigned s = 0;
    while (slot_used[s]) s++;
    slot_used[s] = true;
    c.slot = s;
    busy[s] = {c.id, c.rcpts};
    std::string wire;
    qf::spawn::encode(c, &wire);
    if (!qf::write_all(to_child, wire)) fatal("unable to write command");
  }
  drain(0);
  close(to_child);
  int st;
  if (waitpid(pid, &st, 0) < 0) fatal("unable to wait");
  printf("exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  return 0;
}
