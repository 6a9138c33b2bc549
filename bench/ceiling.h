// What RocksDB alone allows for the transitions and import workloads on this
// machine: the reference that shows how far from its limit a figure is, and
// why a goal set against the peers can or cannot be reached.
//
// Each ceiling writes records of the size leadlog's own records have (claim
// and report records for the transitions, lead_added records for the import)
// to sequential keys of a fresh database in the same scratch disk, with
// nothing else: no views, no hashing, no reads. A transition is two records,
// as in the workloads.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

struct CeilingRun {
  double transitions_per_s = 0;
  uint64_t transitions = 0;
};

// `threads` threads; each call is one RocksDB Write of one record (WAL on,
// fsynced when `synced`): the floor under any system whose calls return only
// once their event is committed, as DESIGN.md requires of leadlog. RocksDB's
// own write group merges concurrent calls. Runs until `seconds` pass or `cap`
// transitions are done.
CeilingRun RunPerCallCeiling(const std::string& dir, unsigned threads, bool synced, double seconds, uint64_t cap);

// One thread, 256 transitions (512 records) per Write, WAL on, not synced:
// sequential appends alone, the floor under any design that writes one log
// record per event, whatever its calls wait for.
CeilingRun RunBatchedCeiling(const std::string& dir, double seconds, uint64_t cap);

// The record size both use (bytes): leadlog's claim and report records of the
// workloads are 136 to 176 bytes.
inline constexpr size_t kCeilingRecordBytes = 160;

// Seconds to commit `records` records of `value_bytes` each in one Write (WAL
// on, not synced) to a fresh database: what committing an import atomically
// costs once its records are encoded, with no views, hashing or encoding.
// An import that validates first and then commits in one write cannot run
// faster than validation time + this.
double TimeOneAtomicWrite(const std::string& dir, uint64_t records, size_t value_bytes);

// leadlog's lead_added records of the import workload: 351 bytes a record in
// its WriteBatch (347.6 MB for 990,000 leads), 13 of them RocksDB's framing.
inline constexpr size_t kImportRecordBytes = 338;

}  // namespace bench
