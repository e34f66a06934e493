// ISC license.
#include "inject/verify.h"

#include <catch2/catch.hpp>

using namespace qf;

TEST_CASE("verify: local, virtual, relayed and MX addresses", "[inject]") {
  addr::Rewriter rw;
  rw.set_envnoathost("here.example");
  rw.add_local("here.example");
  rw.add_virtual("virt.example:v");
  addr::Routes routes;
  routes.parse({"relayed.example:[192.0.2.7]:2525", ".sub.example:smart.example"});
  deliver::Assignments as;
  std::string err;
  REQUIRE(as.parse("=bob:bob:1001:1001:/home/bob:::\n+v-:vuser:1002:1002:/var/v:-::\n.\n", &err));
  inject::VerifyRules r{&rw, &routes, &as};
  CHECK(inject::verify_line("bob@here.example", r) ==
        "<bob@here.example>: local delivery as user bob (uid 1001), home /home/bob, instructions in "
        "/home/bob/.qmail (else .qmail-default files, else the default delivery)");
  CHECK(inject::verify_line("bob", r).find("rewritten to <bob@here.example>; local delivery as user bob") !=
        std::string::npos);
  CHECK(inject::verify_line("ann@virt.example", r) ==
        "<ann@virt.example>: rewritten to <v-ann@virt.example>; local delivery as user vuser (uid 1002), "
        "home /var/v, instructions in /var/v/.qmail-ann (else .qmail-default files, else the default delivery)");
  CHECK(inject::verify_line("nobody@here.example", r).find("no users/assign entry") != std::string::npos);
  CHECK(inject::verify_line("a@relayed.example", r) ==
        "<a@relayed.example>: remote delivery by SMTP to relay [192.0.2.7]:2525 (smtproutes)");
  CHECK(inject::verify_line("a@x.sub.example", r).find("to relay smart.example (smtproutes)") != std::string::npos);
  CHECK(inject::verify_line("a@Far.Example", r) ==
        "<a@Far.Example>: remote delivery by SMTP to the MX hosts of far.example (DNS, not looked up now)");
  r.assign = nullptr;
  CHECK(inject::verify_line("bob@here.example", r).find("users/assign cannot be read") != std::string::npos);
  std::string m = inject::verify_report("mx.example", {"<a@b>: x"});
  CHECK(m.find("Subject: Mail Delivery Status Report\n") != std::string::npos);
  CHECK(m.find("\n\nThis is the mail system at host mx.example.\n") != std::string::npos);
  CHECK(m.substr(m.size() - 9) == "<a@b>: x\n");
}
