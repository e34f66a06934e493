// ISC license.
// The protocol between a qmail-queue client and qmail-queued, over a Unix
// stream socket (qmail-queued(8)). Any number of messages per connection:
//
//   server: "+"                       on accepting the connection (a client that
//                                     does not get it soon runs qmail-queue)
//   client: chunk* end envelope       chunk = 4-byte big-endian length n > 0, n bytes
//                                     end   = 4 zero bytes
//                                     envelope = qmail-queue's fd 1 stream
//                                                (F sender NUL, T rcpt NUL ..., NUL)
//   server: "<code>\n"                qmail-queue's exit code for that message
//
// The message bytes are the message as qmail-queue reads it on fd 0; the
// server adds the Received line. Chunks keep memory bounded on both sides.
#ifndef QF_QUEUE_WIRE_H
#define QF_QUEUE_WIRE_H

#include <cstdint>
#include <string>
#include <string_view>

namespace qf::queue::wire {

inline constexpr uint32_t kMaxChunk = 1 << 20;
/// The byte qmail-queued sends when it takes a connection.
inline constexpr char kGreeting = '+';
/// How long a client waits for it, in milliseconds.
inline constexpr int kGreetingWaitMs = 2000;

/// Appends the chunk header for n bytes (n = 0 ends the message).
void put_chunk_header(std::string* out, uint32_t n);

/// Splits the client's byte stream (server side): message data, then the
/// envelope bytes. Feed it everything read; it hands out what each byte is.
class Framer {
 public:
  enum class Kind { data, envelope, need_more, bad };
  /// Looks at in[0..n): returns what the next *len bytes are (data or
  /// envelope, *len <= n), need_more when n bytes were all framing (consume
  /// them: *len = n), or bad (a chunk longer than kMaxChunk).
  Kind next(char const* in, size_t n, size_t* len);
  /// The message ended (its end chunk was seen): what follows is envelope.
  bool in_envelope() const { return env_; }
  /// Back to the start of the next message, after its envelope.
  void reset() { *this = Framer(); }

 private:
  unsigned char hdr_[4] = {};
  unsigned have_ = 0;
  uint32_t left_ = 0;
  bool env_ = false;
};

}  // namespace qf::queue::wire

#endif
