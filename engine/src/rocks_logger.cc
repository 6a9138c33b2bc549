#include "rocks_logger.h"

#include <cstdarg>
#include <ctime>

namespace leadlog {

QuietFileLogger::QuietFileLogger(const std::string& path, rocksdb::InfoLogLevel level)
    : rocksdb::Logger(level), file_(std::fopen(path.c_str(), "a")) {}

QuietFileLogger::~QuietFileLogger() { CloseImpl(); }

rocksdb::Status QuietFileLogger::CloseImpl() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  return rocksdb::Status::OK();
}

void QuietFileLogger::Logv(const char* format, va_list ap) {
  Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
}

void QuietFileLogger::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (file_ == nullptr || level < GetInfoLogLevel()) return;
  char line[4096];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  int n = static_cast<int>(std::strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm));
  va_list copy;
  va_copy(copy, ap);
  std::vsnprintf(line + n, sizeof(line) - static_cast<size_t>(n), format, copy);
  va_end(copy);
  // Errors (ENOSPC, EIO) are ignored on purpose: see the header.
  std::fputs(line, file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

void QuietFileLogger::Flush() {
  if (file_ != nullptr) std::fflush(file_);
}

}  // namespace leadlog
