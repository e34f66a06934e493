// ISC license.
#include "multi/autoscale.h"

namespace qf::multi {

unsigned Autoscaler::mean(unsigned n) const {
  auto it = samples_.find(n);
  if (it == samples_.end() || it->second.empty()) return 0;
  unsigned sum = 0;
  for (unsigned x : it->second) sum += x;
  return sum / unsigned(it->second.size());
}

void Autoscaler::reset() {
  samples_.clear();
  over_since_ = under_since_ = 0;
}

Autoscaler::Action Autoscaler::tick(time_t now, std::map<unsigned, unsigned> const& loads,
                                    unsigned live, bool draining) {
  unsigned active = 0, over = 0, under = 0;
  for (auto it = samples_.begin(); it != samples_.end();)
    it = loads.count(it->first) ? std::next(it) : samples_.erase(it);
  for (auto const& [n, load] : loads) {
    auto& v = samples_[n];
    v.push_back(load);
    if (v.size() > p_.samples) v.erase(v.begin());
    unsigned m = mean(n);
    active++;
    if (m >= p_.max_load) over++;
    if (m < p_.max_load / 2) under++;
  }
  Action a = Action::none;
  if (active && over == active) {
    if (!over_since_) over_since_ = now;
    if (now - over_since_ >= p_.grow_window) a = Action::grow;
  } else {
    over_since_ = 0;
  }
  if (active && under == active && live > p_.min_count && !draining) {
    if (!under_since_) under_since_ = now;
    if (now - under_since_ >= p_.shrink_window && a == Action::none) {
      a = Action::drain;
      under_since_ = 0;
    }
  } else {
    under_since_ = 0;
  }
  return a;
}

}  // namespace qf::multi
