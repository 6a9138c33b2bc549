// A RocksDB info logger that never takes the process down.
//
// Invariant: a failure to write RocksDB's diagnostic log (a full disk, a
// read-only file) is ignored. RocksDB's own file logger aborts the process
// when its write fails with ENOSPC, which would turn "the disk is full" from
// a clean write error (the store refuses further writes, nothing acknowledged
// is lost) into a crash of every dialer thread.
#pragma once

#include <rocksdb/env.h>

#include <cstdio>
#include <memory>
#include <string>

namespace leadlog {

class QuietFileLogger : public rocksdb::Logger {
 public:
  // Appends to `path`; if it cannot be opened, logs nothing.
  QuietFileLogger(const std::string& path, rocksdb::InfoLogLevel level);
  ~QuietFileLogger() override;
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;
  void Flush() override;

 protected:
  rocksdb::Status CloseImpl() override;

 private:
  std::FILE* file_ = nullptr;
};

}  // namespace leadlog
