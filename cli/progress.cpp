#include "progress.hpp"

#include <csignal>
#include <cstring>

#include "output.hpp"

namespace capexsim::cli {

std::atomic<bool>& interrupted() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {
std::atomic<int> last_signal{0};
extern "C" void on_sigint(int sig) {
  last_signal.store(sig);
  interrupted().store(true);
}
}  // namespace

int interrupt_exit_code() {
  const int sig = last_signal.load();
  return 128 + (sig ? sig : SIGINT);
}

void install_interrupt_handler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGXFSZ, SIG_IGN);
}

ProgressBar::ProgressBar(bool enabled, std::string label, double delay_seconds)
    : enabled_(enabled),
      label_(std::move(label)),
      delay_(delay_seconds),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

namespace {
std::string rate_text(double r) {
  char buf[32];
  if (r >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", r / 1e6);
  else if (r >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1fk", r / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", r);
  return buf;
}
}  // namespace

bool ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  if (interrupted().load()) return false;
  if (!enabled_) return true;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (elapsed < delay_) return true;
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && done < total) return true;
  last_draw_ = now;
  drawn_ = true;
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int width = 24, filled = static_cast<int>(frac * width);
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r%s[%s] %3.0f%%  %s/%s paths  %s paths/s  ETA %.0fs   ", label_.c_str(),
               bar.c_str(), 100 * frac, grouped(done).c_str(), grouped(total).c_str(),
               rate_text(rate).c_str(), eta);
  std::fflush(stderr);
  return true;
}

void ProgressBar::finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace capexsim::cli
