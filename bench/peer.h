// The one interface leadlog_compare drives all three systems through, so
// every workload runs the very same sequence of calls on each of them.
//
// Invariants every implementation keeps:
//  - Same domain rules as leadlog for what the workloads exercise: phones
//    validated with leadlog::NormalizePhone, duplicates per campaign refused,
//    claim hands out due leads oldest-due first (ties by id) and moves them to
//    calling, report checks the lead is calling with that attempt and
//    schedules the retry from the campaign's settings, counts per status.
//  - Every change is logged as an event (dense seq from 1) together with the
//    views it changes; Verify recomputes the views from the log alone and
//    dies when they disagree.
//  - Thread-safe: the transition workloads call Claim/Report from many threads.
//  - Any error is fatal (bench::Die): a benchmark never reports a figure for a
//    run that failed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "leadlog/types.h"

namespace bench {

struct PeerClaim {
  uint64_t lead = 0;
  uint32_t attempt = 0;
  std::string phone;  // E.164: what the dialer needs to place the call
};

struct PeerImport {
  uint64_t read = 0;
  uint64_t imported = 0;
  uint64_t rejected = 0;
};

// How commits are grouped; both are "batches of up to 256 events".
enum class CommitMode {
  // The peers' buffered mode, as issue 5 specifies it: events accumulate in
  // one open transaction / WriteBatch that is committed every 256 events; a
  // call returns before its batch is committed. This flatters the peers
  // (leadlog's calls return only after their WAL write).
  kBatch256,
  // Honest group commit for the synced workloads: a call returns only once
  // its transaction is committed (fsynced); whoever finds no other caller
  // queued behind it, or fills the batch to 256 events, commits for all.
  kGroupCommit,
  // Setup only (building large logs, not timed): huge transactions.
  kBulk,
};

class Peer {
 public:
  virtual ~Peer() = default;
  virtual const char* name() const = 0;

  // Opens (creating if missing) the database in `dir`. `synced`: every
  // commit is fsynced (SQLite synchronous=FULL, RocksDB WriteOptions.sync).
  virtual void Open(const std::string& dir, bool synced, CommitMode mode) = 0;
  // Commits what is pending and closes.
  virtual void Close() = 0;
  // Commits whatever is pending now (end of a timed section).
  virtual void Flush() = 0;

  virtual void CreateCampaign(const std::string& name, const leadlog::CampaignSettings& settings,
                              leadlog::Timestamp now) = 0;
  // CSV text -> leads -> validation -> insert: what `import` costs end to end.
  virtual PeerImport ImportCsv(const std::string& campaign, std::string_view csv, leadlog::Timestamp now) = 0;
  virtual PeerImport AddLeads(const std::string& campaign, const std::vector<leadlog::LeadInput>& leads,
                              leadlog::Timestamp now) = 0;

  virtual void Claim(const std::string& campaign, size_t n, const std::string& dialer, leadlog::Timestamp now,
                     std::vector<PeerClaim>* out) = 0;
  virtual void Report(uint64_t lead, uint32_t attempt, leadlog::LeadStatus outcome, leadlog::Timestamp now) = 0;
  virtual leadlog::StatusCounts Counts(const std::string& campaign) = 0;

  // Full audit replay of the log; returns the number of events replayed.
  virtual uint64_t Verify() = 0;
  // Events in the log.
  virtual uint64_t LastSeq() = 0;
};

std::unique_ptr<Peer> MakeSqlitePeer();
std::unique_ptr<Peer> MakeRocksdbNaivePeer();
std::unique_ptr<Peer> MakeLeadlogPeer();

}  // namespace bench
