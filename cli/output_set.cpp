// The atomic output set of an --out folder (OutputSet, OutFile, write_atomically):
// every file of a run switches in at one rename (output.hpp).

#include "output.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

namespace capexsim::cli {

namespace fs = std::filesystem;

void prepare_out_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw UsageError("--out " + dir.string() + ": exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw UsageError("--out " + dir.string() + ": cannot create the folder: " + ec.message());
  // Probe that files can be created there, so a long run does not end in a failed write.
  const fs::path probe = dir / (".capexsim-probe-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    throw UsageError("--out " + dir.string() +
                     ": the folder is not writable: " + std::strerror(errno));
  ::close(fd);
  fs::remove(probe, ec);
}

void write_atomically(const fs::path& file, const std::string& content) {
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + file.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw UsageError("cannot write " + file.string() + ": " + std::strerror(errno));
  auto fail = [&](const char* what) {
    const std::string msg =
        std::string("cannot write ") + file.string() + " (" + what + "): " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw UsageError(msg);
  };
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("chmod");
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    throw UsageError("cannot write " + file.string() + ": " + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), file.c_str()) != 0) {
    const std::string msg = "cannot write " + file.string() + ": " + std::strerror(errno);
    ::unlink(tmpl.c_str());
    throw UsageError(msg);
  }
}

// ---------------------------------------------------------------------------------------
// Output sets

namespace {
[[noreturn]] void io_error(const std::string& what) {
  throw UsageError(what + ": " + std::strerror(errno));
}

void fsync_dir(const fs::path& dir, const std::string& shown) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) io_error("cannot open " + shown);
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) io_error("cannot flush " + shown);
}

/// Point `name` (in the folder `dirfd`, shown as `shown`) at `target` atomically: a
/// temporary link renamed over it.
void replace_symlink_at(int dirfd, const std::string& name, const std::string& target,
                        const std::string& run_id, const std::string& shown) {
  const std::string tmp = "." + name + ".tmp-" + run_id;
  ::unlinkat(dirfd, tmp.c_str(), 0);
  if (::symlinkat(target.c_str(), dirfd, tmp.c_str()) != 0)
    io_error("cannot create a link in " + shown);
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
    const int saved = errno;
    ::unlinkat(dirfd, tmp.c_str(), 0);
    errno = saved;
    io_error("cannot replace " + shown);
  }
}

/// The target of the link `name` in `dirfd`; "" when it is not a link.
std::string read_link_at(int dirfd, const std::string& name) {
  char buf[4096];
  const ssize_t n = ::readlinkat(dirfd, name.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

/// Remove `name` in the folder `parent`, and everything under it when it is a folder,
/// never following a symbolic link: a link is removed, not what it points to. Best
/// effort (errors are ignored); `depth` bounds the recursion.
void remove_tree_at(int parent, const std::string& name, int depth = 0) {
  if (::unlinkat(parent, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (depth > 32) return;
  const int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  for (const std::string& n : names) remove_tree_at(::dirfd(d), n, depth + 1);
  ::closedir(d);
  ::unlinkat(parent, name.c_str(), AT_REMOVEDIR);
}

std::string new_run_id() {
  // UTC time, then 32 random bits: sortable and unique enough for concurrent hosts.
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  char id[96];
  std::snprintf(id, sizeof id, "%s-%d-%08x", buf, static_cast<int>(::getpid()),
                static_cast<unsigned>(rd()));
  return id;
}

/// Copy the regular file `name` from folder `from` to folder `to` (where hard links are
/// not supported), flushed.
void copy_file_at(int from, int to, const std::string& name, const std::string& shown) {
  const int in = ::openat(from, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) io_error("cannot read " + shown);
  const int out = ::openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    const int saved = errno;
    ::close(in);
    errno = saved;
    io_error("cannot copy " + shown);
  }
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    bool ok = n >= 0;
    for (ssize_t done = 0; ok && done < n;) {
      const ssize_t m = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
      if (m < 0 && errno == EINTR) continue;
      ok = m > 0;
      done += ok ? m : 0;
    }
    if (ok && n == 0) ok = ::fsync(out) == 0;
    if (!ok) {
      const int saved = errno;
      ::close(in);
      ::close(out);
      errno = saved;
      io_error("cannot copy " + shown);
    }
    if (n == 0) break;
  }
  ::close(in);
  if (::close(out) != 0) io_error("cannot copy " + shown);
}

constexpr const char* meta_name = ".capexsim";
}  // namespace

OutFile::OutFile(fs::path path, std::string shown)
    : path_(std::move(path)), shown_(std::move(shown)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("create");
  buffer_.reserve(1 << 20);
}

OutFile::~OutFile() {
  if (fd_ >= 0) ::close(fd_);
}

void OutFile::fail(const char* what) {
  const std::string msg = "cannot write " + shown_ + " (" + what + "): " + std::strerror(errno) +
                          "; the folder was left as it was";
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  throw UsageError(msg);
}

void OutFile::flush() {
  const char* p = buffer_.data();
  std::size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

void OutFile::write(std::string_view text) {
  buffer_.append(text);
  size_ += text.size();
  if (buffer_.size() >= (1u << 20)) flush();
}

std::uint64_t OutFile::close() {
  flush();
  if (::fsync(fd_) != 0) fail("fsync");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close");
  return size_;
}

const std::vector<std::string>& OutputSet::known_names() {
  static const std::vector<std::string> names{"summary.json",     "bands.csv",
                                              "paths.csv",        "sensitivity.csv",
                                              "sensitivity.json", "sensitivity.bin"};
  return names;
}

OutputSet::OutputSet(const fs::path& dir) : dir_(dir), meta_(dir / meta_name) {
  try {
    open_folder();
  } catch (...) {
    for (const int fd : {lock_fd_, meta_fd_, dir_fd_})
      if (fd >= 0) ::close(fd);
    throw;
  }
}

void OutputSet::open_folder() {
  prepare_out_dir(dir_);
  const std::string shown = "--out " + dir_.string();
  if (::mkdir(meta_.c_str(), 0755) != 0 && errno != EEXIST)
    io_error(shown + ": cannot create " + meta_.string());
  // Everything below works through descriptors opened without following links, so a
  // link planted in the folder can never redirect a removal or a write elsewhere.
  dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) io_error(shown + ": cannot open the folder");
  meta_fd_ = ::openat(dir_fd_, meta_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (meta_fd_ < 0) {
    if (errno == ELOOP || errno == ENOTDIR)
      throw UsageError(shown + ": " + meta_.string() +
                       " is not a folder (a symbolic link or a file): capexsim did not make it; "
                       "remove it or choose another --out");
    io_error(shown + ": cannot open " + meta_.string());
  }
  const fs::path lock = meta_ / "lock";
  // O_NOFOLLOW: a link planted as `lock` must not make the pid overwrite another file.
  lock_fd_ = ::openat(meta_fd_, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    if (errno == ELOOP)
      throw UsageError(shown + ": " + lock.string() +
                       " is a symbolic link: capexsim did not make it; remove it or choose "
                       "another --out");
    io_error(shown + ": cannot open " + lock.string());
  }
  struct stat st {};
  if (::fstat(lock_fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
    throw UsageError(shown + ": " + lock.string() +
                     " is not a plain file of its own (a hard link or a special file): capexsim "
                     "did not make it; remove it or choose another --out");
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int saved = errno;
    char buf[32] = {0};
    const ssize_t n = ::pread(lock_fd_, buf, sizeof buf - 1, 0);
    if (saved != EWOULDBLOCK) {
      errno = saved;
      io_error(shown + ": cannot lock " + lock.string());
    }
    // The holder writes "PID\n" over the previous pid, then truncates: the text up to the
    // first newline is its pid (or, in the instant before it writes, the previous one's).
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    pid = pid.substr(0, pid.find('\n'));
    const bool known =
        !pid.empty() && pid.size() < 12 &&
        std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
    throw UsageError(shown + ": another capexsim run" + (known ? " (pid " + pid + ")" : "") +
                     " is writing this folder; wait for it to finish or choose another --out");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::pwrite(lock_fd_, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size()) &&
      ::ftruncate(lock_fd_, static_cast<off_t>(pid.size())) == 0) {
    // The pid is only for the message above; the lock itself is what matters.
  }
  repair();
  run_id_ = new_run_id();
  staging_ = meta_ / run_id_;
  if (::mkdirat(meta_fd_, run_id_.c_str(), 0755) != 0)
    io_error(shown + ": cannot create " + staging_.string());
}

OutputSet::~OutputSet() {
  if (!committed_ && !staging_.empty() && meta_fd_ >= 0) remove_tree_at(meta_fd_, run_id_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
  if (meta_fd_ >= 0) ::close(meta_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

void OutputSet::repair() {
  // Under the lock: finish what a killed run left. The live set is what `current` points
  // at; any other run folder is a killed run's staging (or a replaced set not yet
  // removed) and goes; the names are made to match the live set.
  const std::string shown = "--out " + dir_.string();
  struct stat st {};
  if (::fstatat(meta_fd_, "current", &st, AT_SYMLINK_NOFOLLOW) == 0) {
    live_ = read_link_at(meta_fd_, "current");
    // `current` names a run folder inside .capexsim, nothing else: a link elsewhere (an
    // absolute path, "..", a link to a link) is refused, never followed or removed.
    struct stat target {};
    const bool plain_name =
        !live_.empty() && live_ != "." && live_ != ".." && live_.find('/') == std::string::npos;
    if (!S_ISLNK(st.st_mode) || !plain_name ||
        ::fstatat(meta_fd_, live_.c_str(), &target, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISDIR(target.st_mode))
      throw UsageError(shown + ": " + (meta_ / "current").string() +
                       (S_ISLNK(st.st_mode) ? " points at '" + live_ + "'" : " is not a link") +
                       ", not at a run folder inside " + meta_.string() +
                       ": capexsim did not make it; remove " + meta_.string() +
                       " (the files of its runs) or choose another --out");
  }
  // The names: each either absent, a regular file (written by an earlier version, or
  // copied in) or capexsim's link through `current`; anything else is refused.
  std::vector<std::string> loose;  // regular files to adopt into a set
  for (const std::string& known : known_names()) {
    if (::fstatat(dir_fd_, known.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    const std::string target = std::string(meta_name) + "/current/" + known;
    if (S_ISREG(st.st_mode)) {
      loose.push_back(known);
    } else if (!S_ISLNK(st.st_mode) || read_link_at(dir_fd_, known) != target) {
      throw UsageError(
          shown + ": " + (dir_ / known).string() + " is " +
          (S_ISLNK(st.st_mode) ? "a symbolic link to '" + read_link_at(dir_fd_, known) + "'"
                               : std::string("not a regular file")) +
          ", not capexsim's link to " + target + ": remove it or choose another --out");
    }
  }
  {
    DIR* d = ::fdopendir(::dup(meta_fd_));
    std::vector<std::string> names;
    if (d != nullptr) {
      while (const dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
      ::closedir(d);
    }
    for (const std::string& name : names)
      if (name != "." && name != ".." && name != "lock" && name != "current" && name != live_)
        remove_tree_at(meta_fd_, name);
  }
  // Temporary links and the temporary files of earlier versions (.NAME.tmp-XXXXXX).
  {
    DIR* d = ::fdopendir(::dup(dir_fd_));
    std::vector<std::string> names;
    if (d != nullptr) {
      while (const dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
      ::closedir(d);
    }
    for (const std::string& name : names) {
      bool temporary = name.rfind(std::string(".") + meta_name + ".tmp-", 0) == 0 ||
                       name.rfind(".capexsim-probe-", 0) == 0;
      for (const std::string& known : known_names())
        temporary = temporary || name.rfind("." + known + ".tmp-", 0) == 0;
      if (temporary) ::unlinkat(dir_fd_, name.c_str(), 0);
    }
  }
  if (!loose.empty()) adopt(loose);
  if (live_.empty()) return;
  for (const std::string& known : known_names()) {
    const std::string target = std::string(meta_name) + "/current/" + known;
    const std::string in_live = live_ + "/" + known;
    if (::fstatat(meta_fd_, in_live.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (read_link_at(dir_fd_, known) != target)
        replace_symlink_at(dir_fd_, known, target, "repair", (dir_ / known).string());
    } else if (::fstatat(dir_fd_, known.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISLNK(st.st_mode)) {
      ::unlinkat(dir_fd_, known.c_str(), 0);
    }
  }
}

void OutputSet::adopt(const std::vector<std::string>& loose) {
  // Regular files at the names (an earlier version's set, or files copied in) become a
  // set of their own before anything replaces them: hard links (or copies) of them and of
  // the live set's other files go into a new run folder, `current` switches to it (the
  // names show the same bytes before and after), and only then do the names become links.
  // A failure or a kill at any step leaves every name showing what it showed.
  const std::string shown = "--out " + dir_.string();
  const std::string id = new_run_id() + "-adopted";
  if (::mkdirat(meta_fd_, id.c_str(), 0755) != 0)
    io_error(shown + ": cannot create " + (meta_ / id).string());
  const int to = ::openat(meta_fd_, id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (to < 0) io_error(shown + ": cannot open " + (meta_ / id).string());
  const int live_fd = live_.empty() ? -1
                                    : ::openat(meta_fd_, live_.c_str(),
                                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  try {
    for (const std::string& known : known_names()) {
      const bool is_loose = std::find(loose.begin(), loose.end(), known) != loose.end();
      const int from = is_loose ? dir_fd_ : live_fd;
      struct stat st {};
      if (from < 0 || ::fstatat(from, known.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode))
        continue;
      if (::linkat(from, known.c_str(), to, known.c_str(), 0) != 0)
        copy_file_at(from, to, known, (dir_ / known).string());
    }
    if (::fsync(to) != 0) io_error(shown + ": cannot flush " + (meta_ / id).string());
    replace_symlink_at(meta_fd_, "current", id, id, (meta_ / "current").string());
  } catch (...) {
    ::close(to);
    if (live_fd >= 0) ::close(live_fd);
    remove_tree_at(meta_fd_, id);
    throw;
  }
  ::close(to);
  if (live_fd >= 0) ::close(live_fd);
  if (::fsync(meta_fd_) != 0) io_error(shown + ": cannot flush " + meta_.string());
  const std::string old = live_;
  live_ = id;
  for (const std::string& known : loose)
    replace_symlink_at(dir_fd_, known, std::string(meta_name) + "/current/" + known, id,
                       (dir_ / known).string());
  if (::fsync(dir_fd_) != 0) io_error(shown + ": cannot flush the folder");
  if (!old.empty()) remove_tree_at(meta_fd_, old);
}

std::unique_ptr<OutFile> OutputSet::open(const std::string& name) {
  names_.push_back(name);
  return std::make_unique<OutFile>(staging_ / name, (dir_ / name).string());
}

std::uint64_t OutputSet::write(const std::string& name, std::string_view content) {
  auto f = open(name);
  f->write(content);
  return f->close();
}

void OutputSet::commit() {
  const std::string shown = "--out " + dir_.string();
  fsync_dir(staging_, shown);
  // Links first: each name of the set becomes (once; later runs find it in place) a link
  // through `current`. Until the switch such a link shows the previous set's file, or
  // nothing when the previous set had none, so it never mixes sets; and every step that
  // can fail (a full disk included) comes before the switch. (Regular files at the names
  // were adopted into the live set by repair(), so no name loses its bytes here.)
  for (const std::string& name : names_) {
    const std::string target = std::string(meta_name) + "/current/" + name;
    if (read_link_at(dir_fd_, name) != target)
      replace_symlink_at(dir_fd_, name, target, run_id_, (dir_ / name).string());
  }
  if (::fsync(dir_fd_) != 0) io_error("cannot flush " + shown);
  // The switch: one rename of the `current` link.
  replace_symlink_at(meta_fd_, "current", run_id_, run_id_, (meta_ / "current").string());
  committed_ = true;
  // After the switch nothing may fail: best effort only.
  [[maybe_unused]] const int rc = ::fsync(meta_fd_);
  for (const std::string& known : known_names()) {
    if (std::find(names_.begin(), names_.end(), known) != names_.end()) continue;
    struct stat st {};
    if (::fstatat(dir_fd_, known.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (S_ISLNK(st.st_mode) || S_ISREG(st.st_mode)))
      ::unlinkat(dir_fd_, known.c_str(), 0);
  }
  // live_ was checked by repair() to be a plain folder name inside .capexsim.
  if (!live_.empty() && live_ != run_id_) remove_tree_at(meta_fd_, live_);
}

}  // namespace capexsim::cli
