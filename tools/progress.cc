// The terminal progress bar.
//
// Invariant: nothing is written unless stderr is a terminal.
#include "progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace leadlog::tool {

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(uint64_t done, uint64_t total, const std::string& note) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  // ~10 redraws a second keep the terminal cheap even when called per record.
  if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  std::string line;
  if (total > 0) {
    uint64_t shown = done > total ? total : done;
    int filled = static_cast<int>(shown * kWidth / total);
    int percent = static_cast<int>(shown * 100 / total);
    line = fmt::format("\r{} [{}{}] {:3}%  {}/{}", label_, std::string(filled, '#'), std::string(kWidth - filled, '-'),
                       percent, done, total);
  } else {
    line = fmt::format("\r{} {}", label_, done);
  }
  if (!note.empty()) line += "  " + note;
  line += "\033[K";  // erase what a longer previous line left behind
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

ProgressFn ProgressBar::Fn() {
  if (!enabled_) return {};
  return [this](uint64_t done, uint64_t total) { Update(done, total); };
}

}  // namespace leadlog::tool
