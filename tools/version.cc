// `leadlog --version`: leadlog and the library versions it was built with.
//
// RocksDB and FlatBuffers say their version in their headers. libphonenumber
// has no version macro, so tools/CMakeLists.txt asks pkg-config or, failing
// that, dpkg at configure time and passes it in LEADLOG_PHONENUMBER_VERSION
// together with where it came from; the output says so rather than pretend.
#include <flatbuffers/base.h>
#include <rocksdb/version.h>

#include <fmt/format.h>

#include "commands.h"

#ifndef LEADLOG_VERSION
#define LEADLOG_VERSION "unknown"
#endif
#ifndef LEADLOG_PHONENUMBER_VERSION
#define LEADLOG_PHONENUMBER_VERSION "unknown"
#endif
#ifndef LEADLOG_PHONENUMBER_VERSION_SOURCE
#define LEADLOG_PHONENUMBER_VERSION_SOURCE "not found at build time"
#endif

namespace leadlog::tool {

std::string VersionText() {
  return fmt::format(
      "leadlog {}\n"
      "RocksDB {}.{}.{}\n"
      "FlatBuffers {}.{}.{}\n"
      "libphonenumber {} ({})",
      LEADLOG_VERSION, ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH, FLATBUFFERS_VERSION_MAJOR,
      FLATBUFFERS_VERSION_MINOR, FLATBUFFERS_VERSION_REVISION, LEADLOG_PHONENUMBER_VERSION,
      LEADLOG_PHONENUMBER_VERSION_SOURCE);
}

}  // namespace leadlog::tool
