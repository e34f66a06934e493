// ISC license.
// File-system primitives the queue and the delivery code share. Every function
// returns false (or -1) with errno set on failure and prints nothing.
#ifndef QF_SYS_FS_H
#define QF_SYS_FS_H

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace qf {

/// Writes all of buf to fd, retrying on EINTR and short writes.
bool write_all(int fd, char const* buf, size_t len);
inline bool write_all(int fd, std::string_view s) { return write_all(fd, s.data(), s.size()); }

/// Reads up to len bytes, retrying on EINTR; returns bytes read (< len only at EOF) or -1.
ssize_t read_full(int fd, char* buf, size_t len);

/// Opens a directory read-only, close-on-exec; -1 on failure.
int open_dir(char const* path);

/// fsyncs the directory at path so that links and unlinks in it are durable.
bool fsync_dir(char const* path);

/// fsyncs the open directory fd (fsync_dir). On xfs, whose fsync of a
/// directory returns 0 after the file system has shut down and thrown the
/// directory's last changes away, a 0 is confirmed by reading the directory,
/// which fails with EIO then. A file system without fsync for directories
/// (EINVAL) counts as done.
bool fsync_dir_fd(int fd);
inline bool fsync_dir(std::string const& path) { return fsync_dir(path.c_str()); }

/// fsyncs the directory that contains path.
bool fsync_parent(std::string const& path);

/// True when the file system holding fd journals a change of the directory
/// tree only after the data written out to files before that change: ext3
/// and ext4 with a journal in data=ordered mode (the default), and xfs.
/// There a file whose data was written out (sync_file_range with
/// SYNC_FILE_RANGE_WAIT_AFTER) and only then linked is never found linked
/// but empty or short after a crash. False for every other file system,
/// ext4 without a journal among them, and whenever it cannot tell.
bool journal_orders_data(int fd);

/// journal_orders_data(fd), remembered for the device last asked about: one
/// fstat per call while the device stays the same. Not thread-safe.
bool journal_orders_data_cached(int fd);

/// Whether fd is on ext2/3/4 without a journal, where a directory change
/// reaches the disk in no set order with the inodes it names: a removal not
/// yet written can come back after a crash and fsck, naming an inode that a
/// new file has taken since. Directories with the dirsync attribute
/// (chattr +D) write each change before the call returns. False whenever it
/// cannot tell.
bool journal_less(int fd);

/// Reads a whole file of at most max bytes into out. Fails with EFBIG if larger.
bool read_file(char const* path, std::string* out, size_t max = 1 << 20);

/// Replaces path atomically and durably: path.tmp, write, fsync, rename, fsync dir.
bool write_file_atomic(std::string const& path, std::string_view data, mode_t mode);

/// Creates every missing component of path with mode (existing ones untouched).
bool mkdir_p(std::string const& path, mode_t mode);

/// The directory part of path ("." if none).
std::string dir_of(std::string const& path);

/// Joins a and b with exactly one '/'.
std::string path_join(std::string_view a, std::string_view b);

/// Decimal text of n.
std::string fmt_u64(uint64_t n);

/// Parses s as a whole decimal number without sign or overflow; false otherwise.
bool scan_u64(std::string_view s, uint64_t* out);

}  // namespace qf

#endif
