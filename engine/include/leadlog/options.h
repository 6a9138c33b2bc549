// Options: how a Store is opened. Defaults suit a dialer process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "leadlog/types.h"

namespace leadlog {

enum class Durability : uint8_t {
  // A commit is in the OS page cache (RocksDB WAL, no fsync) when the call
  // returns: it survives the process dying, not the machine losing power.
  kBuffered,
  // A commit is fsynced before the call returns. Concurrent callers share one
  // fsync (group commit), so many threads pay for one sync, not one each.
  kSynced,
};

// Progress of long work (import, replay, verify, rebuild): done of total units.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct Options {
  Durability durability = Durability::kBuffered;

  // The clock used whenever a call is passed kClockNow. Tests and the tool's
  // --now inject their own. Returns microseconds since the Unix epoch.
  std::function<Timestamp()> clock;  // empty: the system clock

  bool create_if_missing = true;

  // Open as a reader: a RocksDB secondary instance that sees the primary's
  // writes up to the moment of opening (and of each CatchUp()). Writes fail
  // with Status::ReadOnly. Works while another process writes.
  bool read_only = false;
  // Where the secondary instance keeps its own info log; empty: a private
  // temporary directory that is removed when the Store closes.
  std::string secondary_scratch_dir;

  // Write a checkpoint of the views after this many events since the last one
  // (and always on close). Bounds recovery time: opening replays at most this
  // many events after loading the checkpoint. Also bounds a checkpoint's
  // transient memory: a copy of each changed lead, its encoded view and
  // RocksDB's memtable of them (at 10M leads, peak RSS +80 bytes a lead with
  // 1M, +71 with 250K; docs/performance.md). 0 disables the automatic ones.
  uint64_t checkpoint_every_events = 250'000;

  // What RocksDB's memtables of all column families may hold together before
  // the largest is flushed (its WriteBufferManager); the log's own memtable is
  // half of it. Resident memory on top of the views. 0: no shared budget
  // (RocksDB's default of 64 MiB per column family).
  size_t memtable_budget_bytes = 64 << 20;

  // What Open does when the checkpointed views disagree with the log (a
  // damaged or tampered view). kFail: refuse with Status::Corruption telling
  // the user to run `leadlog rebuild`. kReplayLog: ignore the checkpoint and
  // derive the views in memory from the whole log (what `verify` and
  // `rebuild` use); nothing is written until Rebuild() or Checkpoint().
  enum class DamagedViews : uint8_t { kFail, kReplayLog };
  DamagedViews on_damaged_views = DamagedViews::kFail;

  // Threads that validate phone numbers during AddLeads; 0: one per core.
  unsigned import_threads = 0;

  // The most events one leader writes in one group commit.
  size_t max_group_events = 4096;

  // Called during long work; may be empty.
  ProgressFn progress;
};

}  // namespace leadlog
