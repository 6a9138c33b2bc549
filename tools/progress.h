// A progress bar on stderr for long work (import, replay, verify, rebuild,
// simulate).
//
// Invariants:
//  - It draws only when stderr is a terminal, so scripts, pipes and
//    --json consumers never see control characters.
//  - Update() may be called from any thread (the engine reports from its
//    worker threads) and as often as it likes: redraws are throttled.
//  - Finish() (or the destructor) erases the bar, leaving the line clean for
//    the command's own output.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "leadlog/options.h"

namespace leadlog::tool {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const { return enabled_; }
  // `note` is shown after the numbers (e.g. the simulated time).
  void Update(uint64_t done, uint64_t total, const std::string& note = "");
  void Finish();
  // A callback for Options::progress; valid while this bar lives.
  ProgressFn Fn();

 private:
  const std::string label_;
  const bool enabled_;
  std::mutex mu_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace leadlog::tool
