// ISC license.
// qmail-smtpd's I/O shell around the protocol engine (session.h): reads the
// control files and tcpserver's environment, runs one session on the
// client's descriptors, and hands messages to qmail-queue (or $QMAILQUEUE).
#ifndef QF_SMTPD_SERVER_H
#define QF_SMTPD_SERVER_H

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "conf/control.h"
#include "queue/client.h"
#include "smtpd/session.h"

namespace qf::smtpd {

/// Reads smtpgreeting (else me), localiphost (else me), rcpthosts,
/// badmailfrom, databytes ($DATABYTES wins), timeoutsmtpd (seconds, at least
/// 1), smtpd_per_request_deadline, smtpd_min_data_rate and
/// smtpd_session_time_limit from the control directory, and the client's
/// description from tcpserver's variables. False with errno when a control
/// file exists but cannot be read or parsed, or when there is neither
/// smtpgreeting nor me.
bool load_config(Config* cfg);

/// What load_config reads from the control directory, kept between the
/// sessions of one -L worker. Each session stats the files (one system call
/// each) and reads them again only when one changed: its inode, size, mtime
/// or ctime, or whether it exists. So a change applies from the next
/// connection on, as under tcpserver, where each session reads them afresh.
class ControlCache {
 public:
  /// cfg's control-file part, read again if any file changed since the last
  /// call; its client part from the environment, as load_config does.
  bool load(Config* cfg);

 private:
  conf::ControlStamps stamps_;  // of base_; matches nothing before the first read
  Config base_;
};

/// The Sink of a real server: one qmail-queue run per message.
class QueueSink final : public Sink {
 public:
  bool open() override;
  uint64_t qp() const override;
  void put(std::string_view bytes) override;
  int commit(std::string_view sender, std::vector<std::string> const& rcpts) override;
  void abort() override { client_.reset(); }  // qmail-queue sees no envelope: queues nothing

 private:
  std::unique_ptr<queue::QueueClient> client_;
};

/// Serves one SMTP session: input on in_fd, replies on out_fd (the same
/// socket under tcpserver). Replies are buffered and written when the next
/// read would block, so pipelined commands are answered in one write.
/// Returns the exit code documented in qmail-smtpd(8): 0 after QUIT, 100 after
/// a protocol violation, 111 on timeout, lost connection or trouble.
/// With a cache (qmail-smtpd -L), the control files are read through it.
int serve(int in_fd, int out_fd, ControlCache* cache = nullptr);

}  // namespace qf::smtpd

#endif
