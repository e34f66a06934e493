// ISC license.
// What every fuzz target shares (tests/fuzz/README): an invariant check that
// stops the run as a crash, and a deterministic splitter that cuts the input
// into pieces, so that incremental parsers are fed the way a socket feeds them.
#ifndef QF_TESTS_FUZZ_FUZZ_H
#define QF_TESTS_FUZZ_FUZZ_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

/// A broken invariant: say which, then trap (libFuzzer keeps the input).
#define FUZZ_CHECK(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                              \
    }                                                                                \
  } while (0)

namespace qf::fuzz {

/// Piece sizes from a seed byte: 1 to max bytes each (max 0: the whole rest).
class Splitter {
 public:
  Splitter(uint8_t seed, size_t max) : x_(seed * 2654435761u + 1), max_(max) {}
  size_t next(size_t left) {
    if (max_ == 0) return left;
    x_ ^= x_ << 13;
    x_ ^= x_ >> 17;
    x_ ^= x_ << 5;
    size_t n = 1 + x_ % max_;
    return n < left ? n : left;
  }

 private:
  uint32_t x_;
  size_t max_;
};

/// The largest piece for a seed byte: small pieces often (byte by byte at 1).
inline size_t piece_max(uint8_t seed) {
  static constexpr size_t kMax[8] = {1, 2, 3, 7, 16, 64, 512, 0};
  return kMax[seed & 7];
}

/// Takes the first byte of the input (0 when empty).
inline uint8_t take_byte(std::string_view* in) {
  if (in->empty()) return 0;
  uint8_t b = uint8_t(in->front());
  in->remove_prefix(1);
  return b;
}

/// The part of *in before the first NUL; *in keeps what follows it (empty if none).
inline std::string_view take_until_nul(std::string_view* in) {
  size_t nul = in->find('\0');
  std::string_view head = in->substr(0, nul);
  *in = nul == std::string_view::npos ? std::string_view() : in->substr(nul + 1);
  return head;
}

}  // namespace qf::fuzz

#endif
