// ISC license.
// Exit codes are a contract, written once here and repeated in each man page.
#ifndef QF_SYS_EXITCODES_H
#define QF_SYS_EXITCODES_H

namespace qf {

/// The general table (skarnet/qmail): success, permanent, temporary, internal bug.
namespace ex {
inline constexpr int ok = 0;
inline constexpr int perm = 100;      ///< permanent failure or usage error
inline constexpr int internal = 101;  ///< internal error: a bug, please report
inline constexpr int temp = 111;      ///< temporary failure (system call, resources)
}  // namespace ex

/// qmail-queue's table (djb's qmail-queue(8)): 11-40 permanent, the rest temporary.
namespace qq {
inline constexpr int ok = 0;
inline constexpr int addr_too_long = 11;
inline constexpr int refused = 31;     ///< permanent refusal (drop-in replacements only)
inline constexpr int nomem = 51;
inline constexpr int timeout = 52;
inline constexpr int write = 53;       ///< write error, e.g. disk full
inline constexpr int read = 54;        ///< cannot read the message or envelope
inline constexpr int config = 55;
inline constexpr int network = 56;
inline constexpr int home = 61;        ///< trouble with the qmail home directory
inline constexpr int queuedir = 62;
inline constexpr int pid = 63;
inline constexpr int mess = 64;
inline constexpr int intd = 65;
inline constexpr int todo = 66;
inline constexpr int temp_refused = 71;
inline constexpr int bug = 81;         ///< internal bug, e.g. a fault signal
inline constexpr int custom = 82;      ///< custom text on fd 6 (D/Z prefix)
inline constexpr int envelope = 91;    ///< envelope format error

/// True for the permanent range 11..40.
constexpr bool permanent(int code) { return code >= 11 && code <= 40; }
/// The SMTP-style text qmail gives each code (for qmail-inject, qmail-smtpd, bounces).
char const* describe(int code);
}  // namespace qq

}  // namespace qf

#endif
