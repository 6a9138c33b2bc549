// What the two peer implementations (SQLite, naive RocksDB) share: their
// in-memory lead state, the replayer their Verify runs, and the batcher that
// groups their commits. Not used by the leadlog peer: leadlog has its own.
//
// Invariants:
//  - LeadState::due > 0 exactly when the lead may be claimed from that time
//    on; the transition rules (ApplyClaim/ApplyReport) are the only place
//    where a peer's state changes, live and in replay alike.
//  - The Batcher runs each call's work under one mutex, so a peer's state,
//    its open transaction or WriteBatch, and its sequence counter change
//    together; what the mode adds is only when the batch is committed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "leadlog/types.h"
#include "peer.h"

namespace bench {

using leadlog::CampaignSettings;
using leadlog::EventType;
using leadlog::LeadStatus;
using leadlog::StatusCounts;
using leadlog::Timestamp;

// The peers have no injectable clock: kClockNow means the wall clock.
inline Timestamp Resolve(Timestamp now) { return now == leadlog::kClockNow ? NowMicros() : now; }

inline int S(LeadStatus s) { return static_cast<int>(s); }

inline bool IsOutcomeStatus(LeadStatus s) {
  return s == LeadStatus::kCompleted || s == LeadStatus::kNoAnswer || s == LeadStatus::kVoicemail ||
         s == LeadStatus::kFailed;
}

inline leadlog::Duration RetryDelayOf(const CampaignSettings& c, LeadStatus outcome) {
  switch (outcome) {
    case LeadStatus::kNoAnswer:
      return c.retry_no_answer;
    case LeadStatus::kVoicemail:
      return c.retry_voicemail;
    case LeadStatus::kFailed:
      return c.retry_failed;
    default:
      return leadlog::kNever;
  }
}

struct LeadState {
  uint32_t campaign = 0;
  LeadStatus status = LeadStatus::kPending;
  uint32_t attempts = 0;       // attempt number of the latest claim
  uint32_t attempts_used = 0;  // claims in the current budget
  Timestamp due = 0;           // 0: not claimable
  Timestamp lease_until = 0;
};

// The transition rules the peers implement (the subset the workloads use).
// Each returns false (and changes nothing) when the move is illegal.
inline bool ApplyClaim(LeadState* l, uint32_t attempt, Timestamp lease_until) {
  if (l->due == 0 || attempt != l->attempts + 1) return false;
  if (l->status != LeadStatus::kPending && l->status != LeadStatus::kNoAnswer && l->status != LeadStatus::kVoicemail &&
      l->status != LeadStatus::kFailed)
    return false;
  l->status = LeadStatus::kCalling;
  l->attempts = attempt;
  l->attempts_used++;
  l->due = 0;
  l->lease_until = lease_until;
  return true;
}

inline bool ApplyReport(LeadState* l, const CampaignSettings& c, uint32_t attempt, LeadStatus outcome, Timestamp now) {
  if (l->status != LeadStatus::kCalling || attempt != l->attempts || !IsOutcomeStatus(outcome)) return false;
  l->status = outcome;
  l->lease_until = 0;
  leadlog::Duration d = RetryDelayOf(c, outcome);
  l->due = (d != leadlog::kNever && l->attempts_used < c.max_attempts) ? now + d : 0;
  return true;
}

// One decoded event of a peer's log.
struct PeerEvent {
  uint64_t seq = 0;
  Timestamp ts = 0;
  EventType type = EventType::kLeadAdded;
  uint64_t lead = 0;
  uint32_t campaign = 0;
  uint32_t attempt = 0;
  LeadStatus status = LeadStatus::kPending;
  Timestamp lease_until = 0;
  CampaignSettings settings;  // campaign_created
};

// Recomputes every view from a peer's log and checks each transition.
class Replayer {
 public:
  void Apply(const PeerEvent& e) {
    if (e.seq != next_seq_) Problem(e.seq, "sequence gap");
    next_seq_ = e.seq + 1;
    ++events_;
    switch (e.type) {
      case EventType::kCampaignCreated:
        campaigns_[e.campaign] = e.settings;
        counts_[e.campaign];
        return;
      case EventType::kLeadAdded: {
        if (e.lead != leads_.size() + 1) Problem(e.seq, "lead id not dense");
        LeadState l;
        l.campaign = e.campaign;
        l.due = e.ts;
        leads_.push_back(l);
        Count(e.campaign, LeadStatus::kPending, +1);
        counts_[e.campaign].total++;
        return;
      }
      case EventType::kLeadClaimed: {
        LeadState* l = Lead(e);
        if (!l) return;
        LeadStatus from = l->status;
        if (!ApplyClaim(l, e.attempt, e.lease_until)) return Problem(e.seq, "illegal claim");
        Count(l->campaign, from, -1);
        Count(l->campaign, LeadStatus::kCalling, +1);
        return;
      }
      case EventType::kOutcomeReported: {
        LeadState* l = Lead(e);
        if (!l) return;
        auto c = campaigns_.find(l->campaign);
        if (c == campaigns_.end()) return Problem(e.seq, "unknown campaign");
        if (!ApplyReport(l, c->second, e.attempt, e.status, e.ts)) return Problem(e.seq, "illegal report");
        Count(l->campaign, LeadStatus::kCalling, -1);
        Count(l->campaign, e.status, +1);
        return;
      }
      default:
        Problem(e.seq, "unexpected event type");
    }
  }

  uint64_t events() const { return events_; }
  const std::vector<LeadState>& leads() const { return leads_; }
  const std::unordered_map<uint32_t, StatusCounts>& counts() const { return counts_; }

  // Dies unless `stored` (the peer's view of lead `id`) equals the replay.
  void CheckLead(uint64_t id, const LeadState& stored) const {
    if (id == 0 || id > leads_.size()) Die("verify: stored lead {} is not in the log", id);
    const LeadState& r = leads_[id - 1];
    if (r.status != stored.status || r.attempts != stored.attempts || r.due != stored.due ||
        r.attempts_used != stored.attempts_used)
      Die("verify: lead {} stored status {}/{} due {} differs from replay {}/{} due {}", id, S(stored.status),
          stored.attempts, stored.due, S(r.status), r.attempts, r.due);
  }
  void CheckCounts(uint32_t campaign, const StatusCounts& stored) const {
    auto it = counts_.find(campaign);
    if (it == counts_.end() || !(it->second == stored)) Die("verify: counts of campaign {} differ from replay", campaign);
  }

 private:
  LeadState* Lead(const PeerEvent& e) {
    if (e.lead == 0 || e.lead > leads_.size()) {
      Problem(e.seq, "unknown lead");
      return nullptr;
    }
    return &leads_[e.lead - 1];
  }
  void Count(uint32_t campaign, LeadStatus s, int delta) { counts_[campaign].by_status[S(s)] += delta; }
  void Problem(uint64_t seq, const char* what) { Die("verify: record {}: {}", seq, what); }

  uint64_t next_seq_ = 1;
  uint64_t events_ = 0;
  std::vector<LeadState> leads_;
  std::unordered_map<uint32_t, CampaignSettings> campaigns_;
  std::unordered_map<uint32_t, StatusCounts> counts_;
};

// Serializes a peer's calls and decides when its batch commits (CommitMode).
class Batcher {
 public:
  // `commit` commits the open transaction / WriteBatch; called under the lock.
  void Init(CommitMode mode, std::function<void()> commit) {
    mode_ = mode;
    commit_ = std::move(commit);
  }

  // Runs work() (which returns how many events it added) under the lock and
  // commits as the mode says. In kGroupCommit returns only once committed.
  template <class Work>
  void Run(Work&& work) {
    waiting_.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lock(mu_);
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    size_t added = work();
    pending_ += added;
    switch (mode_) {
      case CommitMode::kBatch256:
        if (pending_ >= 256) CommitLocked();
        return;
      case CommitMode::kBulk:
        if (pending_ >= 50'000) CommitLocked();
        return;
      case CommitMode::kGroupCommit: {
        uint64_t mine = generation_;
        // Nobody queued behind us: nobody will commit for us, so we do.
        if (pending_ > 0 && (pending_ >= 256 || waiting_.load(std::memory_order_relaxed) == 0)) CommitLocked();
        if (added > 0) cv_.wait(lock, [&] { return committed_ >= mine; });
        return;
      }
    }
  }

  // Runs a read under the lock (sees the open transaction's own writes).
  template <class Work>
  auto Read(Work&& work) {
    std::lock_guard<std::mutex> lock(mu_);
    return work();
  }

  void Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_ > 0) CommitLocked();
  }

 private:
  void CommitLocked() {
    commit_();
    pending_ = 0;
    committed_ = generation_++;
    cv_.notify_all();
  }

  CommitMode mode_ = CommitMode::kBatch256;
  std::function<void()> commit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> waiting_{0};
  size_t pending_ = 0;
  uint64_t generation_ = 1;  // of the open batch
  uint64_t committed_ = 0;   // newest committed generation
};

}  // namespace bench
