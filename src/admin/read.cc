// ISC license.
#include "admin/read.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>

#include "queue/envelope.h"
#include "queue/status.h"
#include "send/core.h"
#include "sys/fd.h"
#include "sys/fs.h"

namespace qf::admin {

using queue::Dir;

namespace {

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

// Calls fn(name) for every entry of the directory open on fd but . and ..,
// with getdents64 and a 64 KiB buffer. False when a call fails.
template <typename F>
bool each_entry(int fd, F&& fn) {
  alignas(8) static thread_local char buf[1 << 16];
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    for (long pos = 0; pos < n;) {
      auto* d = reinterpret_cast<LinuxDirent64*>(buf + pos);
      pos += d->d_reclen;
      char const* name = d->d_name;
      if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
      fn(name);
    }
  }
}

bool numeric(char const* s, uint64_t* id) { return scan_u64(s, id); }

// Sorted ids of the files in one directory (open on fd).
bool ids_of(int fd, std::vector<uint64_t>* out) {
  out->clear();
  bool ok = each_entry(fd, [&](char const* name) {
    uint64_t id;
    if (numeric(name, &id)) out->push_back(id);
  });
  std::sort(out->begin(), out->end());
  return ok;
}

bool has(std::vector<uint64_t> const& v, uint64_t id) { return std::binary_search(v.begin(), v.end(), id); }

// Reads the whole file name under dirfd into *out (a short read ends it: a
// regular file reads short only at its end). st: fstat it too.
bool slurp(int dirfd, char const* name, std::string* out, struct stat* st = nullptr) {
  // O_NOATIME: a listing must not dirty an inode per file (root or the owner
  // may ask for it; anybody else gets EPERM and reads without it).
  static thread_local int noatime = O_NOATIME;
  Fd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | noatime));
  if (!fd.ok() && errno == EPERM && noatime) {
    noatime = 0;
    fd.reset(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  }
  if (!fd.ok()) return false;
  if (st && ::fstat(fd.get(), st) < 0) return false;
  out->clear();
  char buf[8192];
  for (;;) {
    ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    out->append(buf, size_t(r));
    if (size_t(r) < sizeof buf || out->size() > (16u << 20)) return true;
  }
}

class Reader {
 public:
  Reader(queue::Layout const& q, unsigned n, bool rcpts, Scan* out)
      : q_(q), n_(n), rcpts_(rcpts), out_(out) {}

  void run(unsigned threads) {
    size_t first = out_->messages.size();
    flat(Dir::hold, &hold_);
    flat(Dir::bounce, &bounce_);
    todo();
    // The split subdirectories in parallel: each worker its own Reader (fds,
    // buffers, results) over buckets k, k+T, ...; the lists above are shared
    // read-only. The results are merged and sorted below.
    threads = std::max(1u, std::min(threads, q_.split()));
    std::vector<Scan> parts(threads);
    std::vector<std::unique_ptr<Reader>> workers;
    for (unsigned k = 0; k < threads; k++) {
      workers.push_back(std::make_unique<Reader>(q_, n_, rcpts_, &parts[k]));
      workers.back()->hold_ = hold_;
      workers.back()->bounce_ = bounce_;
      workers.back()->todo_ids_ = todo_ids_;
    }
    auto work = [&](unsigned k) {
      for (unsigned b = k; b < q_.split(); b += threads) workers[k]->bucket(b);
    };
    std::vector<std::thread> pool;
    for (unsigned k = 1; k < threads; k++) pool.emplace_back(work, k);
    work(0);
    for (auto& t : pool) t.join();
    size_t total = out_->messages.size();
    for (auto const& p : parts) total += p.messages.size();
    out_->messages.reserve(total + 64);
    for (auto& p : parts) {
      for (auto& m : p.messages) out_->messages.push_back(std::move(m));
      for (auto& e : p.errors) out_->errors.push_back(std::move(e));
    }
    corrupt();
    std::sort(out_->messages.begin() + long(first), out_->messages.end(),
              [](Message const& a, Message const& b) {
                if (a.queue != b.queue) return a.queue < b.queue;
                if (a.birth != b.birth) return a.birth < b.birth;
                return a.id < b.id;
              });
  }

 private:
  Fd open_dir_fd(std::string const& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.ok() && errno != ENOENT) error(path);
    return fd;
  }
  void error(std::string const& path) {
    out_->errors.push_back("unable to read " + path + ": " + strerror(errno));
  }
  void flat(Dir d, std::vector<uint64_t>* ids) {
    Fd fd = open_dir_fd(q_.dir(d));
    if (fd.ok() && !ids_of(fd.get(), ids)) error(q_.dir(d));
  }
  Fd& mess_fd(unsigned b) {
    if (mess_.empty()) mess_.resize(q_.split());
    if (!mess_[b].ok()) mess_[b] = open_dir_fd(q_.subdir(Dir::mess, b));
    return mess_[b];
  }

  Message base(uint64_t id, char const* name) {
    Message m;
    m.queue = n_;
    m.id = id;
    m.held = has(hold_, id);
    m.bouncing = has(bounce_, id);
    Fd& mf = mess_fd(q_.bucket(id));
    struct stat st;
    if (mf.ok() && ::fstatat(mf.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      m.birth = st.st_mtime;
      m.size = uint64_t(st.st_size);
      m.size_known = true;
    }
    return m;
  }

  // todo/N: u p F T... records.
  void todo() {
    auto one = [&](int dirfd) {
      std::vector<uint64_t> ids;
      std::vector<std::string> names;
      each_entry(dirfd, [&](char const* name) {
        uint64_t id;
        if (numeric(name, &id)) names.emplace_back(name);
      });
      for (auto const& name : names) {
        uint64_t id;
        scan_u64(name, &id);
        Message m = base(id, name.c_str());
        m.todo = true;
        if (slurp(dirfd, name.c_str(), &data_)) {
          queue::for_each_record(data_, [&](char t, std::string_view v) {
            if (t == 'F') {
              m.sender = v;
              m.sender_known = true;
            } else if (t == 'T') {
              Rcpt r;
              r.channel = '?';  // todo-proc decides local or remote
              r.addr = v;
              m.rcpts.push_back(std::move(r));
            }
            return t != '\0';
          });
        } else if (errno == ENOENT) {
          continue;  // pre-processed meanwhile: found in info/ (or finished)
        }
        todo_ids_.push_back(id);
        out_->messages.push_back(std::move(m));
      }
    };
    if (q_.is_split(Dir::todo)) {
      for (unsigned b = 0; b < q_.split(); b++) {
        Fd fd = open_dir_fd(q_.subdir(Dir::todo, b));
        if (fd.ok()) one(fd.get());
      }
    } else {
      Fd fd = open_dir_fd(q_.dir(Dir::todo));
      if (fd.ok()) one(fd.get());
    }
    std::sort(todo_ids_.begin(), todo_ids_.end());
  }

  void bucket(unsigned b) {
    Fd info = open_dir_fd(q_.subdir(Dir::info, b));
    if (!info.ok()) return;
    std::vector<std::string> names;
    if (!each_entry(info.get(), [&](char const* name) {
          uint64_t id;
          if (numeric(name, &id)) names.emplace_back(name);
        }))
      error(q_.subdir(Dir::info, b));
    if (names.empty()) return;
    out_->messages.reserve(out_->messages.size() + names.size());
    Fd chan[2], defer;
    std::vector<uint64_t> chan_ids[2], defer_ids;
    if (rcpts_) {
      Dir cd[2] = {Dir::local, Dir::remote};
      for (int c = 0; c < 2; c++) {
        chan[c] = open_dir_fd(q_.subdir(cd[c], b));
        if (chan[c].ok()) ids_of(chan[c].get(), &chan_ids[c]);
      }
      defer = open_dir_fd(q_.subdir(Dir::defer, b));
      if (defer.ok()) ids_of(defer.get(), &defer_ids);
    }
    for (auto const& name : names) {
      uint64_t id;
      scan_u64(name, &id);
      if (has(todo_ids_, id)) continue;  // pre-processing not finished: listed from todo/
      Message m = base(id, name.c_str());
      if (slurp(info.get(), name.c_str(), &data_)) {
        if (!data_.empty() && data_[0] == 'F') {
          size_t nul = data_.find('\0');
          m.sender = data_.substr(1, nul == std::string::npos ? std::string::npos : nul - 1);
          m.sender_known = true;
        }
      } else if (errno == ENOENT) {
        continue;  // finished meanwhile
      }
      if (rcpts_) {
        for (int c = 0; c < 2; c++) {
          if (!has(chan_ids[c], id)) continue;
          struct stat st;
          if (!slurp(chan[c].get(), name.c_str(), &data_, &st)) continue;
          m.next_retry = std::max(m.next_retry, time_t(st.st_mtime));
          std::vector<send::QueuedRcpt> pending;
          send::parse_channel_file(data_, 0, &pending);  // a damaged tail: what came before
          for (auto& p : pending) {
            Rcpt r;
            r.channel = c == 0 ? 'L' : 'R';
            r.addr = std::move(p.addr);
            m.rcpts.push_back(std::move(r));
          }
        }
        if (has(defer_ids, id) && slurp(defer.get(), name.c_str(), &data_)) attach(&m);
      }
      out_->messages.push_back(std::move(m));
    }
  }

  // Puts the last status of each recipient (defer/N, in data_) on it.
  void attach(Message* m) {
    statuses_.clear();
    queue::parse_status(data_, &statuses_);
    for (auto& r : m->rcpts)
      for (auto const& s : statuses_)
        if (s.channel == r.channel && s.addr == r.addr) {
          r.status_when = s.when;
          r.status = s.text;
        }
  }

  // corrupt/N.name: one message per N.
  void corrupt() {
    Fd fd = open_dir_fd(q_.dir(Dir::corrupt));
    if (!fd.ok()) return;
    std::unordered_map<uint64_t, size_t> at;
    std::vector<std::string> names;
    each_entry(fd.get(), [&](char const* name) { names.emplace_back(name); });
    std::sort(names.begin(), names.end());
    for (auto const& name : names) {
      size_t dot = name.find('.');
      uint64_t id;
      if (!scan_u64(std::string_view(name).substr(0, dot), &id)) continue;
      std::string kind = dot == std::string::npos ? "?" : name.substr(dot + 1);
      auto it = at.find(id);
      if (it == at.end()) {
        Message m = base(id, fmt_u64(id).c_str());
        m.corrupt = true;
        if (!m.size_known) {
          struct stat st;
          if (::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) m.birth = st.st_mtime;
        }
        it = at.emplace(id, out_->messages.size()).first;
        out_->messages.push_back(std::move(m));
      }
      Message& m = out_->messages[it->second];
      if (!m.corrupt_files.empty()) m.corrupt_files += ' ';
      m.corrupt_files += kind;
      if (kind == "info" && slurp(fd.get(), name.c_str(), &data_) && !data_.empty() && data_[0] == 'F') {
        size_t nul = data_.find('\0');
        m.sender = data_.substr(1, nul == std::string::npos ? std::string::npos : nul - 1);
        m.sender_known = true;
      }
    }
  }

  queue::Layout const& q_;
  unsigned n_;
  bool rcpts_;
  Scan* out_;
  std::vector<uint64_t> hold_, bounce_, todo_ids_;
  std::vector<Fd> mess_;
  std::string data_;
  std::vector<queue::RcptStatus> statuses_;
};

}  // namespace

char const* state_name(State s) {
  switch (s) {
    case State::incoming: return "incoming";
    case State::active: return "active";
    case State::deferred: return "deferred";
    case State::hold: return "hold";
    case State::corrupt: return "corrupt";
  }
  return "?";
}

bool parse_state(std::string_view name, State* out) {
  for (State s : {State::incoming, State::active, State::deferred, State::hold, State::corrupt})
    if (name == state_name(s)) {
      *out = s;
      return true;
    }
  return false;
}

State Message::state(time_t now) const {
  if (corrupt) return State::corrupt;
  if (held) return State::hold;
  if (todo) return State::incoming;
  if (next_retry > now) return State::deferred;
  return State::active;
}

void read_queue(queue::Layout const& q, unsigned n, bool recipients, Scan* out, unsigned threads) {
  Reader(q, n, recipients, out).run(threads);
}

Counts count_queue(queue::Layout const& q) {
  Counts c;
  auto count = [&](Dir d, uint64_t* n) {
    auto one = [&](std::string const& path) {
      Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd.ok()) {
        c.ok = false;
        return;
      }
      if (!each_entry(fd.get(), [&](char const* name) {
            uint64_t id;
            if (numeric(name, &id)) ++*n;
          }))
        c.ok = false;
    };
    if (q.is_split(d))
      for (unsigned b = 0; b < q.split(); b++) one(q.subdir(d, b));
    else
      one(q.dir(d));
  };
  count(Dir::mess, &c.messages);
  count(Dir::todo, &c.todo);
  return c;
}

}  // namespace qf::admin
