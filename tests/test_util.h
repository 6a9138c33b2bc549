// Helpers shared by the test suites: scratch directories and a manual clock.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "leadlog/leadlog.h"

namespace leadlog::testing {

// A fresh directory under the system temp dir, removed when it goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "t");
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock tests move by hand. Starts at 2026-12-04T10:00:00Z.
class ManualClock {
 public:
  static constexpr Timestamp kStart = 1796378400LL * kSecond;
  Timestamp Now() const { return now_.load(); }
  void Advance(Duration d) { now_ += d; }
  void Set(Timestamp t) { now_ = t; }
  std::function<Timestamp()> AsFunction() { return [this] { return now_.load(); }; }

 private:
  std::atomic<Timestamp> now_{kStart};
};

std::string ReadFile(const std::string& path);  // throws when it cannot
// A file another process may not have written yet: "" when it is missing.
std::string ReadFileOrEmpty(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);

}  // namespace leadlog::testing
