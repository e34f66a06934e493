// ISC license.
#include "admin/metrics.h"

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

using namespace qf::admin;

TEST_CASE("metrics: every line is a comment or a sample, per queue and channel", "[admin]") {
  time_t now = 100000;
  std::vector<Message> a(2), b;
  a[0].birth = now - 50;
  a[0].rcpts.push_back({'R', "x@y", 0, ""});
  a[0].next_retry = now + 10;  // deferred
  a[1].birth = now - 10;
  a[1].held = true;
  a[1].rcpts.push_back({'L', "u@l", 0, ""});
  qf::multi::QueueFigures live;
  live.n = 2;
  live.pid = 42;
  live.rused = 3;
  live.rmax = 100;
  live.results[1][1] = 7;
  std::string t = prometheus({{1, &a, nullptr}, {2, &b, &live}}, now);
  std::istringstream in(t);
  std::regex sample(R"re(^[a-z_]+\{queue="[0-9]+"(,channel="(local|remote)")?(,(state|result)="[a-z]+")?\} [0-9]+$)re");
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    n++;
    bool ok = line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0 || std::regex_match(line, sample);
    CHECK(ok);
  }
  CHECK(n > 30);
  CHECK(t.find("qfleet_queue_messages{queue=\"1\",state=\"deferred\"} 1\n") != std::string::npos);
  CHECK(t.find("qfleet_queue_messages{queue=\"1\",state=\"hold\"} 1\n") != std::string::npos);
  CHECK(t.find("qfleet_queue_oldest_message_age_seconds{queue=\"1\"} 50\n") != std::string::npos);
  CHECK(t.find("qfleet_channel_held_messages{queue=\"1\",channel=\"local\"} 1\n") != std::string::npos);
  CHECK(t.find("qfleet_send_up{queue=\"1\"} 0\n") != std::string::npos);
  CHECK(t.find("qfleet_send_up{queue=\"2\"} 1\n") != std::string::npos);
  CHECK(t.find("qfleet_channel_in_flight{queue=\"2\",channel=\"remote\"} 3\n") != std::string::npos);
  CHECK(t.find("qfleet_channel_recipients_total{queue=\"2\",channel=\"remote\",result=\"deferred\"} 7\n") != std::string::npos);
  CHECK(t.find("qfleet_channel_in_flight{queue=\"1\"") == std::string::npos);
}
