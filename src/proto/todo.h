// ISC license.
// The protocol between qmail-send and todo-proc (fds 7 and 8 of qmail-send,
// 0 and 1 of todo-proc); IndiMail's, documented in todo-proc(8).
//
//   send -> todo-proc, one byte each:  C start, H reread controls, X exit
//   todo-proc -> send, NUL-terminated records:
//     D<c><id>   message id pre-processed; c is L (local recipients), R
//                (remote), B (both) or X (none)
//     L<line>    a qmail-log(5) line (without its newline) for send to write
//     T<bytes>   trigger requests read from lock/trigger (Postfix's qmgr
//                triggers), merged and in Postfix's order, A and F before D:
//                A ignore retry times, F revive dead destinations, D scan
//                deferred mail now
//     R<domain>  flush the destination of domain (sendmail -qR)
//     A<req>     an administrative request from lock/trigger (qmail-qsuper(8)):
//                H<id> hold (H alone: every message in memory with hold/N),
//                U<id> released (U alone: every parked one without hold/N),
//                Q<id> try now (requeue), E<id> expire, S<sender> flush the
//                mail of sender (sendmail -qS), P reread control/paused
//     X          todo-proc is exiting
#ifndef QF_PROTO_TODO_H
#define QF_PROTO_TODO_H

namespace qf::todo {

inline constexpr char kStart = 'C';
inline constexpr char kReread = 'H';
inline constexpr char kExit = 'X';

inline constexpr char kDone = 'D';
inline constexpr char kLog = 'L';
inline constexpr char kTrigger = 'T';
inline constexpr char kFlush = 'R';
inline constexpr char kAdmin = 'A';
inline constexpr char kExiting = 'X';

}  // namespace qf::todo

#endif
