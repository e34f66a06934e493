// ISC license.
// spawn-drive: plays qmail-send to a spawner for the integration tests.
//
//   spawn-drive [ -w ] [ -t seconds ] prog [ arg ... ] < commands
//
// Runs prog with a command pipe on its fd 0 and a report pipe on its fd 1.
// Each line of stdin is one command, fields separated by tabs:
//   slot id sender rcpt [rcpt ...]      (\xNN in a field stands for a byte)
//   raw HEX                             (bytes sent as they are)
// Without -w the command pipe is closed as soon as everything is sent; with
// -w only after a report has come back for every command. Prints
//   slots N
//   SLOT INDEX STATUS TEXT              (one line per recipient; newlines in TEXT as \n)
//   exit CODE | signal N
// and exits 0, or 1 on a protocol error from prog, 2 on a timeout (-t, default 120).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "proto/spawn.h"
#include "sys/fs.h"

char const* PROG = "spawn-drive";

namespace {

std::vector<std::string> split_tabs(std::string const& line) {
  std::vector<std::string> f;
  size_t start = 0;
  for (;;) {
    size_t t = line.find('\t', start);
    f.push_back(line.substr(start, t == std::string::npos ? std::string::npos : t - start));
    if (t == std::string::npos) return f;
    start = t + 1;
  }
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string unescape(std::string const& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
        hexval(s[i + 3]) >= 0) {
      r.push_back(char(hexval(s[i + 2]) * 16 + hexval(s[i + 3])));
      i += 3;
    } else {
      r.push_back(s[i]);
    }
  }
  return r;
}

std::string show(std::string const& s) {
  std::string r;
  for (char c : s) {
    if (c == '\n')
      r += "\\n";
    else
      r += c;
  }
  return r;
}

[[noreturn]] void die(int code, std::string const& msg) {
  std::cerr << "spawn-drive: " << msg << std::endl;
  _exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  bool wait_reports = false;
  unsigned timeout = 120;
  int opt;
  while ((opt = getopt(argc, argv, "+wt:")) != -1) {
    if (opt == 'w')
      wait_reports = true;
    else if (opt == 't')
      timeout = unsigned(atoi(optarg));
    else
      die(100, "usage: spawn-drive [ -w ] [ -t seconds ] prog [ arg ... ]");
  }
  if (optind >= argc) die(100, "usage: spawn-drive [ -w ] [ -t seconds ] prog [ arg ... ]");
  signal(SIGPIPE, SIG_IGN);
  alarm(timeout);
  signal(SIGALRM, [](int) { _exit(2); });

  std::string out;
  // slot -> recipients of its commands; a refusal of a reused slot answers the latest.
  std::map<unsigned, std::vector<size_t>> outstanding;
  size_t commands = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    auto f = split_tabs(line);
    if (f[0] == "raw") {
      std::string raw = f.size() > 1 ? f[1] : "";
      for (size_t i = 0; i + 1 < raw.size(); i += 2)
        out.push_back(char(hexval(raw[i]) * 16 + hexval(raw[i + 1])));
      continue;
    }
    if (f.size() < 4) die(100, "bad command line: " + line);
    qf::spawn::Command c;
    c.slot = unsigned(std::stoul(f[0]));
    c.id = std::stoull(f[1]);
    c.sender = unescape(f[2]);
    for (size_t i = 3; i < f.size(); i++) c.rcpts.push_back(unescape(f[i]));
    outstanding[c.slot].push_back(c.rcpts.size());
    commands++;
    qf::spawn::encode(c, &out);
  }

  int cmd[2], rep[2];
  if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) die(111, "unable to create pipes");
  pid_t pid = fork();
  if (pid < 0) die(111, "unable to fork");
  if (pid == 0) {
    if (dup2(cmd[0], 0) < 0 || dup2(rep[1], 1) < 0) _exit(111);
    execvp(argv[optind], argv + optind);
    _exit(111);
  }
  close(cmd[0]);
  close(rep[1]);
  fcntl(cmd[1], F_SETFL, O_NONBLOCK);

  unsigned char slots[2];
  if (qf::read_full(rep[0], reinterpret_cast<char*>(slots), 2) != 2) die(1, "no slot count");
  std::printf("slots %u\n", unsigned(slots[0]) | unsigned(slots[1]) << 8);

  qf::spawn::ReportReader reader([&](unsigned slot) {
    auto it = outstanding.find(slot);
    return it == outstanding.end() || it->second.empty() ? size_t(0) : it->second.back();
  });
  size_t sent = 0, reports = 0;
  bool cmd_open = true, rep_open = true;
  while (rep_open) {
    if (cmd_open && sent == out.size() && (!wait_reports || reports >= commands)) {
      close(cmd[1]);
      cmd_open = false;
    }
    struct pollfd fds[2];
    nfds_t n = 0;
    fds[n++] = {rep[0], POLLIN, 0};
    if (cmd_open && sent < out.size()) fds[n++] = {cmd[1], POLLOUT, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      die(111, "poll failed");
    }
    if (n > 1 && fds[1].revents) {
      ssize_t w = write(cmd[1], out.data() + sent, out.size() - sent);
      if (w > 0)
        sent += size_t(w);
      else if (w < 0 && errno != EAGAIN)
        sent = out.size();  // the spawner stopped reading
    }
    if (fds[0].revents) {
      char buf[4096];
      ssize_t r = read(rep[0], buf, sizeof buf);
      if (r <= 0) {
        rep_open = false;
        break;
      }
      size_t pos = 0;
      while (pos < size_t(r)) {
        size_t used;
        auto st = reader.feed(buf + pos, size_t(r) - pos, &used);
        pos += used;
        if (st == qf::spawn::ReportReader::Status::bad) die(1, "unexpected report");
        if (st == qf::spawn::ReportReader::Status::report) {
          unsigned slot = reader.slot();
          auto results = reader.take();
          for (size_t i = 0; i < results.size(); i++)
            std::printf("%u %zu %c %s\n", slot, i, results[i].status, show(results[i].text).c_str());
          std::fflush(stdout);
          outstanding[slot].pop_back();
          reports++;
        }
      }
    }
  }
  if (cmd_open) close(cmd[1]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st))
    std::printf("exit %d\n", WEXITSTATUS(st));
  else
    std::printf("signal %d\n", WTERMSIG(st));
  return 0;
}
