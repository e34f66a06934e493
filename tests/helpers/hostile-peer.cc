// ISC license.
// hostile-peer mode port: listens on 127.0.0.1:port, serves one connection
// as a hostile SMTP server, then exits. Modes:
//   endless    "220 " then 'x' forever, no line end
//   manylines  a 10,000-line greeting
//   badcode    a greeting whose code is not a number
//   nul        a greeting with NUL and escape bytes, then 421 to EHLO
// Prints "listening" on stdout once it accepts connections.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

char const* PROG = "hostile-peer";

namespace {

bool say(int fd, std::string const& s) { return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size()); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "hostile-peer: usage: hostile-peer endless|manylines|badcode|nul port\n");
    return 100;
  }
  signal(SIGPIPE, SIG_IGN);
  std::string mode = argv[1];
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(atoi(argv[2])));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(s, 5) < 0) {
    perror("hostile-peer: fatal: unable to listen");
    return 111;
  }
  printf("listening\n");
  fflush(stdout);
  int c = accept(s, nullptr, nullptr);
  if (c < 0) return 111;
  alarm(60);  // never outlive a test
  if (mode == "endless") {
    say(c, "220 ");
    std::string x(65536, 'x');
    while (say(c, x)) {
    }
  } else if (mode == "manylines") {
    std::string lines;
    for (int i = 0; i < 10000; i++) lines += "220-" + std::string(70, 'y') + "\r\n";
    say(c, lines + "220 ok\r\n");
  } else if (mode == "badcode") {
    say(c, "2x0 hello\r\n");
  } else if (mode == "nul") {
    say(c, std::string("220 a\0b\x1b[2Jc\r\n", 14));
    char buf[512];
    if (read(c, buf, sizeof buf) > 0) say(c, std::string("421 bye\0\x1b\r\n", 11));
  }
  char buf[4096];
  while (read(c, buf, sizeof buf) > 0) {
  }
  return 0;
}
