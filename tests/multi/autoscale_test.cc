// ISC license.
// qscheduler -d's rule on a simulated clock: loads in, decisions out.
#include "multi/autoscale.h"

#include <catch2/catch.hpp>

using qf::multi::Autoscaler;

TEST_CASE("autoscale: grows after the window above MAX_LOAD, drains after the one below half", "[multi][autoscale]") {
  Autoscaler a({90, 1, 5, 30, 5});
  time_t t = 1000;
  // Two queues at 95%: the mean of the samples crosses at once, grow 5 s later.
  int grew = -1;
  for (int s = 0; s < 10 && grew < 0; s++, t++)
    if (a.tick(t, {{1, 95}, {2, 95}}, 2, false) == Autoscaler::Action::grow) grew = s;
  CHECK(grew == 5);
  a.reset();
  // One queue busy, one idle: neither grow nor drain.
  for (int s = 0; s < 60; s++, t++) CHECK(a.tick(t, {{1, 95}, {2, 10}}, 2, false) == Autoscaler::Action::none);
  // Both idle: drain after 30 s, and not below QUEUE_COUNT.
  int drained = -1;
  for (int s = 0; s < 40 && drained < 0; s++, t++)
    if (a.tick(t, {{1, 10}, {2, 10}}, 2, false) == Autoscaler::Action::drain) drained = s;
  CHECK(drained >= 30);
  CHECK(drained <= 34);  // the mean of 5 samples falls below 45% first
  for (int s = 0; s < 60; s++, t++) CHECK(a.tick(t, {{1, 0}}, 1, false) == Autoscaler::Action::none);
  // A drain in progress holds the next one.
  Autoscaler b({90, 1, 5, 30, 5});
  for (int s = 0; s < 60; s++, t++) CHECK(b.tick(t, {{1, 0}, {2, 0}}, 2, true) == Autoscaler::Action::none);
}

TEST_CASE("autoscale: the mean load follows the last samples", "[multi][autoscale]") {
  Autoscaler a({90, 1, 5, 30, 5});
  time_t t = 0;
  for (unsigned l : {100u, 100u, 100u, 100u, 100u, 0u, 0u}) a.tick(t++, {{3, l}}, 1, false);
  CHECK(a.mean(3) == 60);
  CHECK(a.mean(4) == 0);
}
