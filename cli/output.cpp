#include "output.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include <capexsim/detail/format.hpp>
#include <capexsim/version.hpp>

#include "progress.hpp"

namespace capexsim::cli {

namespace fs = std::filesystem;

std::string number(double x) {
  if (std::isnan(x)) return "nan";
  return detail::format_double(x);
}

std::string grouped(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

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

namespace {
nlohmann::json json_number(double x) {
  if (!std::isfinite(x)) return nullptr;  // JSON has no NaN
  return x;
}
}  // namespace

namespace {
/// The 95% half-widths and cvar05 of a metric, after its v1 fields.
void add_ci95_fields(nlohmann::ordered_json& m, const Summary& s) {
  m["cvar05"] = json_number(s.cvar05);
  m["mean_ci95"] = json_number(s.mean_ci95);
  for (std::size_t q = 0; q < summary_levels.size(); ++q)
    m[level_name(summary_levels[q]) + "_ci95"] = json_number(s.quantiles_ci95[q]);
  m["prob_positive_ci95"] = json_number(s.prob_positive_ci95);
  m["cvar95_ci95"] = json_number(s.cvar95_ci95);
  m["cvar05_ci95"] = json_number(s.cvar05_ci95);
  m["nan_share_ci95"] = json_number(s.nan_share_ci95);
}
}  // namespace

std::vector<std::string> overflowed_outputs(const Result& r, const std::vector<Summary>& stats) {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < r.output_names.size() && k < stats.size(); ++k) {
    if (is_event_time(r.output_names[k])) continue;
    const Summary& s = stats[k];
    bool bad = s.nan_share > 0 || (s.count > 0 && !(std::abs(s.mean) < 1e300));
    for (const double q : s.quantiles) bad = bad || (s.count > 0 && !(std::abs(q) < 1e300));
    if (bad) out.push_back(r.output_names[k]);
  }
  return out;
}

std::string overflow_warning(const std::vector<std::string>& overflowed) {
  if (overflowed.empty()) return "";
  std::string list;
  for (const auto& n : overflowed) list += (list.empty() ? "" : ", ") + n;
  return "capexsim: warning: " + list + " overflowed" +
         ": NaN, infinite or beyond 1e300 on some paths, past the range of a double (an "
         "extreme growth rate, drift or volatility over the horizon?); their statistics are "
         "not meaningful (summary.json lists them under \"overflowed\")\n";
}

std::vector<Summary> summaries(const Result& r) {
  std::vector<Summary> out;
  for (std::size_t k = 0; k < r.output_names.size(); ++k) out.push_back(r.summary(k));
  return out;
}

std::string summary_json(const Result& r, const std::vector<Summary>& stats, const RunInfo& info,
                         const std::vector<std::pair<std::string, std::uint64_t>>& files) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["scenario"] = r.scenario_name;
  j["scenario_hash"] = r.scenario_fingerprint;
  j["scenario_file"] = info.scenario_file;
  j["paths"] = r.paths;
  j["seed"] = r.seed;
  j["steps"] = r.steps;
  j["step_years"] = r.dt;
  j["start"] = r.start_year;
  j["threads"] = info.threads;
  j["version"] = version_string;
  j["wall_time_s"] = info.wall_seconds;
  j["run_id"] = info.run_id;
  ordered_json listed = ordered_json::object();
  for (const auto& [name, bytes] : files) listed[name] = {{"bytes", bytes}};
  j["files"] = listed;
  j["sampling"] = info.sampling;
  if (!info.note.empty()) j["note"] = info.note;
  if (const auto overflowed = overflowed_outputs(r, stats); !overflowed.empty())
    j["overflowed"] = overflowed;
  if (!info.target.empty())
    j["target"] = {{"target", info.target},
                   {"reached", info.target_reached},
                   {"estimate", json_number(info.target_estimate)},
                   {"ci95", json_number(info.target_half_width)},
                   {"wanted_ci95", json_number(info.target_wanted)}};
  ordered_json metrics = ordered_json::object();
  // The funding waterfall first (docs/model.md §13.1), then the ledger, counterparties
  // and every other output.
  for (std::size_t k : display_order(r.output_names)) {
    const Summary& s = stats[k];
    const QuantityInfo q = describe_output(r.output_names[k]);
    ordered_json m;
    m["unit"] = q.unit;
    m["kind"] = kind_name(q.kind);
    m["adverse_tail"] = tail_name(q.adverse);
    m["mean"] = json_number(s.mean);
    m["sd"] = json_number(s.sd);
    m["stderr"] = json_number(s.std_error);
    for (std::size_t q = 0; q < summary_levels.size(); ++q)
      m[level_name(summary_levels[q])] = json_number(s.quantiles[q]);
    m["prob_positive"] = json_number(s.prob_positive);
    m["cvar95"] = json_number(s.cvar95);
    m["nan_share"] = json_number(s.nan_share);
    add_ci95_fields(m, s);
    for (const auto& [name, values] : info.thresholds) {
      if (name != r.output_names[k]) continue;
      ordered_json e = ordered_json::object();
      for (double v : values) {
        const Exceedance x = r.exceedance(k, v);
        e[number(v)] = {{"prob", json_number(x.prob)}, {"ci95", json_number(x.ci95)}};
      }
      m["exceedance"] = e;
    }
    metrics[r.output_names[k]] = m;
  }
  j["metrics"] = metrics;
  // max_digits10 so that every double round-trips
  return j.dump(2) + "\n";
}

std::string bands_csv(const Result& r) {
  std::string out = "t,year,series,mean,p5,p25,p50,p75,p95\n";
  for (const std::string& name : r.series_names) {
    const auto rows = r.band(name);
    for (const BandRow& row : rows) {
      out += number(row.t) + "," + number(row.year) + "," + name + "," + number(row.mean);
      for (double q : row.quantiles) out += "," + number(q);
      out += "\n";
    }
  }
  return out;
}

void write_paths_csv(const Result& r, OutFile& out) {
  if (!r.has_per_path()) throw std::logic_error("paths_csv: the run kept no per-path outputs");
  std::string row = "path";
  for (const auto& n : r.output_names) row += "," + n;
  // The drawn static inputs of each path (docs/sensitivity.md), after the outputs.
  const bool inputs = r.has_inputs();
  if (inputs)
    for (const auto& n : r.input_names) row += ",input." + n;
  row += "\n";
  out.write(row);
  for (std::uint64_t p = 0; p < r.paths; ++p) {
    if (p % 1024 == 0 && interrupted().load()) throw Cancelled();
    row = std::to_string(r.first_path + p);
    for (std::size_t k = 0; k < r.output_names.size(); ++k) {
      row += ',';
      row += number(r.per_path(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)));
    }
    if (inputs)
      for (std::size_t k = 0; k < r.input_names.size(); ++k) {
        row += ',';
        row += number(r.inputs(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)));
      }
    row += '\n';
    out.write(row);
  }
}

std::string output_unit(const std::string& name) {
  return describe_output(name).unit;
}

bool is_event_time(const std::string& name) {
  return describe_output(name).kind == Kind::time;
}

int decimals_for(const std::string& unit) {
  if (unit == "share") return 3;
  return unit == "years" || unit == "GW" ? 2 : 1;
}

namespace {
std::string fixed(double x, int decimals) {
  if (std::isnan(x)) return "-";
  char buf[64];
  // Beyond 10 digits before the point, scientific notation keeps the columns aligned.
  if (std::abs(x) >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3e", x);
  else
    std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}
}  // namespace

namespace {
bool starts_with(const std::string& s, const char* p) {
  return s.rfind(p, 0) == 0;
}
/// Rows of the counterparty table, not of the output tables (docs/model.md §13.3).
bool counterparty_output(const std::string& n) {
  return starts_with(n, "unpaid_") || starts_with(n, "deferred_") || n == "recovered_total";
}
bool waterfall_output(const std::string& n) {
  return n == "funding_need" || n == "need_time" || starts_with(n, "funding_need_by_") ||
         n == "funding_gap" || starts_with(n, "funding_gap_by_") || n == "gap_time" ||
         n == "runway";
}
}  // namespace

std::string summary_table(const Result& r, const std::vector<Summary>& stats) {
  std::ostringstream o;
  char line[512];
  int width = 19;  // the name column fits the longest output name
  for (const auto& name : r.output_names)
    if (!counterparty_output(name) && !starts_with(name, "flow_"))
      width = std::max(width, static_cast<int>(name.size()));
  auto header = [&] {
    // "±" is two bytes in UTF-8: a field one wider keeps the columns aligned.
    std::snprintf(line, sizeof line, "%-*s %-6s %10s %9s %10s %10s %10s %9s %9s\n", width, "output",
                  "unit", "mean", "±95%", "p5", "p50", "p95", "P(>0)", "never");
    o << line;
  };
  auto row = [&](std::size_t k) {
    const std::string& name = r.output_names[k];
    const Summary& s = stats[k];
    const std::string unit = output_unit(name);
    const int d = decimals_for(unit);
    const std::string p_pos = is_event_time(name) ? "" : fixed(100 * s.prob_positive, 1) + "%";
    const std::string never = is_event_time(name) ? fixed(100 * s.nan_share, 1) + "%" : "";
    std::snprintf(line, sizeof line, "%-*s %-6s %10s %8s %10s %10s %10s %9s %9s\n", width,
                  name.c_str(), unit.c_str(), fixed(s.mean, d).c_str(),
                  fixed(s.mean_ci95, d + 1).c_str(), fixed(s.quantile(0.05), d).c_str(),
                  fixed(s.quantile(0.5), d).c_str(), fixed(s.quantile(0.95), d).c_str(),
                  p_pos.c_str(), never.c_str());
    o << line;
  };
  const std::vector<std::size_t> order = display_order(r.output_names);
  // 1. The funding waterfall: gross need, by date, then the residual and its timing.
  header();
  for (std::size_t k : order)
    if (waterfall_output(r.output_names[k])) row(k);
  // 2. Sources and uses; 3. counterparties; 4. every other output.
  o << ledger_table(r, stats);
  o << counterparty_table(r, stats);
  o << "\n";
  header();
  for (std::size_t k : order) {
    const std::string& n = r.output_names[k];
    if (!waterfall_output(n) && !counterparty_output(n) && !starts_with(n, "flow_")) row(k);
  }
  return o.str();
}

std::string ledger_table(const Result& r, const std::vector<Summary>& stats) {
  // docs/model.md §13.2: sources, uses, and the cash they leave.
  struct Line {
    const char* output;
    const char* label;
  };
  static const Line sources[] = {{"flow_revenue", "revenue (incl. resale)"},
                                 {"flow_vendor", "vendor financing"},
                                 {"flow_scheduled_equity", "scheduled equity"},
                                 {"flow_warrants", "warrants sold"},
                                 {"flow_debt_drawn", "debt drawn"},
                                 {"flow_equity_rounds", "equity rounds"},
                                 {"flow_arrears_added", "arrears added (unpaid)"}};
  static const Line uses[] = {{"flow_capex", "capex (incl. refresh)"},
                              {"flow_contracts", "contracts"},
                              {"flow_rent", "rent"},
                              {"flow_opex", "opex"},
                              {"flow_interest", "interest"},
                              {"flow_debt_repaid", "debt repaid"},
                              {"flow_arrears_paid", "arrears repaid"}};
  auto index = [&](const char* name) -> long {
    for (std::size_t k = 0; k < r.output_names.size(); ++k)
      if (r.output_names[k] == name) return static_cast<long>(k);
    return -1;
  };
  if (index("flow_revenue") < 0) return "";
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "\n%-28s %10s %10s %10s %10s\n", "sources and uses, $B", "mean",
                "p5", "p50", "p95");
  o << line;
  double in = 0, out = 0;
  auto put = [&](const Line& l, double& total) {
    const long k = index(l.output);
    if (k < 0) return;
    const Summary& s = stats[static_cast<std::size_t>(k)];
    total += s.mean;
    std::snprintf(line, sizeof line, "  %-26s %10s %10s %10s %10s\n", l.label,
                  fixed(s.mean, 1).c_str(), fixed(s.quantile(0.05), 1).c_str(),
                  fixed(s.quantile(0.5), 1).c_str(), fixed(s.quantile(0.95), 1).c_str());
    o << line;
  };
  o << "sources\n";
  for (const Line& l : sources) put(l, in);
  o << "uses\n";
  for (const Line& l : uses) put(l, out);
  const long w = index("terminal_cash");
  const double end = w >= 0 ? stats[static_cast<std::size_t>(w)].mean : 0.0;
  std::snprintf(line, sizeof line, "%-28s %10s   (initial cash %s + sources %s - uses %s, means)\n",
                "cash at the horizon", fixed(end, 1).c_str(), fixed(end - in + out, 1).c_str(),
                fixed(in, 1).c_str(), fixed(out, 1).c_str());
  o << line;
  return o.str();
}

std::string counterparty_table(const Result& r, const std::vector<Summary>& stats) {
  // docs/model.md §13.3: one row per class of obligation with arrears (each contract, then
  // builders, opex, lenders, landlords), from its unpaid_<class> and deferred_<class>.
  auto index = [&](const std::string& name) -> long {
    for (std::size_t k = 0; k < r.output_names.size(); ++k)
      if (r.output_names[k] == name) return static_cast<long>(k);
    return -1;
  };
  if (index("unpaid_total") < 0) return "";
  std::vector<std::pair<std::string, std::string>> rows;  // label, class
  for (const std::string& name : r.output_names)
    if (starts_with(name, "deferred_") && name != "deferred_total" && name != "deferred_capex" &&
        name != "deferred_opex" && name != "deferred_debt" && name != "deferred_rent")
      rows.emplace_back(name.substr(9), name.substr(9));
  rows.emplace_back("builders (capex)", "capex");
  rows.emplace_back("opex", "opex");
  rows.emplace_back("lenders (debt)", "debt");
  rows.emplace_back("landlords (rent)", "rent");
  rows.emplace_back("total", "total");
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "\n%-20s %11s %11s %14s %14s %14s\n", "counterparty",
                "P(never in", "P(paid in", "unpaid mean", "unpaid p95", "recovered");
  o << line;
  std::snprintf(line, sizeof line, "%-20s %11s %11s %14s %14s %14s\n", "", "arrears)", "full)",
                "$B", "$B", "mean $B");
  o << line;
  for (const auto& [who, cls] : rows) {
    const long u = index("unpaid_" + cls), d = index("deferred_" + cls);
    if (u < 0 || d < 0) continue;
    const Summary& su = stats[static_cast<std::size_t>(u)];
    const Summary& sd = stats[static_cast<std::size_t>(d)];
    std::snprintf(line, sizeof line, "%-20s %10s%% %10s%% %14s %14s %14s\n", who.c_str(),
                  fixed(100 * (1 - sd.prob_positive), 1).c_str(),
                  fixed(100 * (1 - su.prob_positive), 1).c_str(), fixed(su.mean, 1).c_str(),
                  fixed(su.quantile(0.95), 1).c_str(), fixed(sd.mean - su.mean, 1).c_str());
    o << line;
  }
  return o.str();
}

std::string thresholds_table(const Result& r, const Thresholds& thresholds) {
  std::ostringstream o;
  for (const auto& [name, values] : thresholds) {
    const std::size_t k = r.output_index(name);
    const std::string unit = output_unit(name);
    for (double v : values) {
      const Exceedance e = r.exceedance(k, v);
      o << "P(" << name << " > " << number(v) << (unit == std::string("years") ? " years" : "")
        << ") = " << fixed(100 * e.prob, 2) << "% ± " << fixed(100 * e.ci95, 2) << "%\n";
    }
  }
  return o.str();
}

}  // namespace capexsim::cli
