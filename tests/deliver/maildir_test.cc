// ISC license.
#include "deliver/maildir.h"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/fd.h"
#include "sys/fs.h"
#include "../testutil.h"

using namespace qf::deliver;
using qf::test::TempDir;

namespace {

std::vector<std::string> ls(std::string const& dir) {
  std::vector<std::string> r;
  DIR* d = opendir(dir.c_str());
  if (!d) return r;
  while (struct dirent* e = readdir(d))
    if (e->d_name[0] != '.') r.push_back(e->d_name);
  closedir(d);
  return r;
}

void make_maildir(std::string const& p) {
  for (char const* sub : {"", "/tmp", "/new", "/cur"}) REQUIRE(mkdir((p + sub).c_str(), 0700) == 0);
}

}  // namespace

TEST_CASE("maildir: unique names", "[maildir]") {
  struct timespec ts = {1795445622, 123456789};
  CHECK(maildir_name(ts, 4321, 7, "mx.example") == "1795445622.M123456P4321Q7.mx.example");
  CHECK(maildir_name(ts, 1, 1, "a/b:c") == "1795445622.M123456P1Q1.a\\057b\\072c");
}

TEST_CASE("maildir: a delivery lands in new/ byte for byte, tmp/ stays empty", "[maildir]") {
  TempDir t;
  make_maildir(t / "Maildir");
  std::string body = "Subject: x\n\nbody\n";
  body += std::string("\0\xff\r\n", 4);
  REQUIRE(qf::test::write_text(t / "msg", body));
  qf::Fd msg(open((t / "msg").c_str(), O_RDONLY));
  qf::Fd home(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));
  std::string name1, name2;
  REQUIRE(deliver_maildir(home.get(), "./Maildir/", "RP\nDT\n", msg.get(), &name1).ok());
  REQUIRE(deliver_maildir(home.get(), t / "Maildir/", "RP\nDT\n", msg.get(), &name2).ok());
  CHECK(name1 != name2);
  auto files = ls(t / "Maildir/new");
  REQUIRE(files.size() == 2);
  CHECK(ls(t / "Maildir/tmp").empty());
  std::string data;
  REQUIRE(qf::read_file((t / "Maildir/new/" + name1).c_str(), &data));
  CHECK(data == "RP\nDT\n" + body);
  struct stat st;
  REQUIRE(stat((t / "Maildir/new/" + name1).c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_nlink == 1);
}

TEST_CASE("maildir: failures are temporary and leave nothing in tmp/", "[maildir]") {
  TempDir t;
  REQUIRE(qf::test::write_text(t / "msg", "hello\n"));
  qf::Fd msg(open((t / "msg").c_str(), O_RDONLY));
  qf::Fd home(open(t.path().c_str(), O_RDONLY | O_DIRECTORY));

  Outcome o = deliver_maildir(home.get(), "./Missing/", "", msg.get());
  CHECK(o.code == 111);
  CHECK(o.text.find("(#4.2.1)") != std::string::npos);

  // new/ is not a directory: the file is written, the link fails, tmp/ is cleaned.
  make_maildir(t / "M2");
  REQUIRE(rmdir((t / "M2/new").c_str()) == 0);
  REQUIRE(qf::test::write_text(t / "M2/new", ""));
  o = deliver_maildir(home.get(), "M2/", "", msg.get());
  CHECK(o.code == 111);
  CHECK(ls(t / "M2/tmp").empty());

  // An unreadable message: a temporary failure that says so.
  make_maildir(t / "M3");
  qf::Fd wronly(open((t / "msg").c_str(), O_WRONLY));
  o = deliver_maildir(home.get(), "M3/", "", wronly.get());
  CHECK(o.code == 111);
  CHECK(o.text.find("Unable to read message") != std::string::npos);
  CHECK(ls(t / "M3/tmp").empty());
  CHECK(ls(t / "M3/new").empty());
}
