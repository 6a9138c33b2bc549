// State: the views, in memory. Everything here is derived from the log by
// Apply (apply.h) and nothing else writes it.
//
// Invariants:
//  - leads[id - 1] is lead `id`; ids are dense from 1. campaigns likewise.
//  - counts[c].by_status[s] is the number of leads of campaign c in status s,
//    and total their sum, at every moment between two applied events.
//  - The dial queues are hints, checked again by Apply: a queue entry may be
//    stale (the lead moved on since it was queued) and is then discarded when
//    it reaches the head, but every claimable lead has an entry.
//    pending:    FIFO of never-claimed leads, in (due, id) order: they are
//                due from their lead_added record, ids ascend with the log
//                and record times never decrease, so appending keeps the
//                order. Stored as runs of consecutive ids (LeadIdQueue): an
//                import into one campaign is one 8-byte entry.
//    scheduled:  min-heap of (due, id) for leads waiting for a retry and
//                for requeued leads (whose ids do not follow the log's order).
//    leases:   min-heap of (lease_until, id, attempt) for open calls.
//  - LeadRow is 32 bytes: with the phone index a lead costs about 46 bytes of
//    memory (issue 5's budget is 64). Profiles (names, email, custom fields)
//    stay in the log and are read on demand.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hash.h"
#include "leadlog/types.h"

namespace leadlog {

// One lead's derived state, packed into 32 bytes: at 10M leads every byte
// here is 10 MB resident. The narrow fields hold everything their domain can
// reach: an E.164 number has at most 15 digits (< 10^15 < 2^50), a log
// reaches 2^48 records after 89 years at 100K events a second (Apply refuses
// a lead_added past it), and a budget holds at most kMaxAttempts (1000)
// attempts. Bit-fields: take a field's value, never its address.
struct LeadRow {
  static constexpr int kPhoneBits = 50;
  static constexpr int kSeqBits = 48;
  static constexpr int kBudgetBits = 16;
  static constexpr uint64_t kMaxPhone = (uint64_t{1} << kPhoneBits) - 1;
  static constexpr uint64_t kMaxAddedSeq = (uint64_t{1} << kSeqBits) - 1;
  static constexpr uint32_t kMaxBudgetUsed = (uint32_t{1} << kBudgetBits) - 1;

  uint64_t phone : kPhoneBits = 0;  // E.164 digits as an integer
  LeadStatus status : 3 = LeadStatus::kPending;
  LeadStatus last_outcome : 3 = LeadStatus::kPending;  // of attempt `attempt`, once ended
  uint64_t flags : 2 = 0;
  // Depends on status: pending -> due since; calling (or a call still open
  // under do_not_call) -> lease_until; no_answer/voicemail/failed -> retry due
  // time, or 0 when no retry is scheduled (exhausted or not retried).
  Timestamp when = 0;
  uint64_t added_seq : kSeqBits = 0;  // the lead_added record: the lead's profile
  // Attempts since the current budget began (at the lead's addition or its
  // latest requeue): a claim counts one, a requeue starts again at 0.
  uint64_t budget_used : kBudgetBits = 0;
  CampaignId campaign = 0;
  uint32_t attempt = 0;  // latest attempt number

  static constexpr uint8_t kCallOpen = 1;  // attempt `attempt` has no outcome yet
  static constexpr uint8_t kDirty = 2;     // changed since the last checkpoint

  bool call_open() const { return flags & kCallOpen; }
  uint32_t attempts_used() const { return static_cast<uint32_t>(budget_used); }
  // The attempt number the current budget began at (what checkpoints hold).
  uint32_t budget_start() const { return attempt - attempts_used(); }
  // Equality of the derived state (ignores the dirty bit).
  bool SameState(const LeadRow& o) const;
};
static_assert(sizeof(LeadRow) == 32, "LeadRow is the per-lead memory budget");
static_assert(LeadRow::kMaxPhone >= 999'999'999'999'999ULL, "15 E.164 digits fit");

// The lead rows, indexed by id - 1. Grows in fixed chunks rather than by
// doubling: a vector of 10M rows would hold up to 2x its size while growing
// and copy 400 MB each time; chunks waste at most one chunk and never move.
class LeadTable {
 public:
  static constexpr size_t kChunkRows = 1 << 16;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  LeadRow& operator[](size_t i) { return chunks_[i / kChunkRows][i % kChunkRows]; }
  const LeadRow& operator[](size_t i) const { return chunks_[i / kChunkRows][i % kChunkRows]; }
  LeadRow& back() { return (*this)[size_ - 1]; }
  void push_back(const LeadRow& row) {
    if (size_ % kChunkRows == 0 && size_ / kChunkRows == chunks_.size()) {
      chunks_.push_back(std::make_unique<LeadRow[]>(kChunkRows));
    }
    (*this)[size_++] = row;
  }
  void clear() {
    chunks_.clear();
    size_ = 0;
  }
  size_t MemoryBytes() const { return chunks_.size() * kChunkRows * sizeof(LeadRow) + chunks_.capacity() * sizeof(void*); }

 private:
  std::vector<std::unique_ptr<LeadRow[]>> chunks_;
  size_t size_ = 0;
};

struct DueEntry {
  Timestamp due;
  LeadId lead;
  bool operator>(const DueEntry& o) const { return due != o.due ? due > o.due : lead > o.lead; }
};

struct LeaseEntry {
  Timestamp until;
  LeadId lead;
  uint32_t attempt;
  bool operator>(const LeaseEntry& o) const { return until != o.until ? until > o.until : lead > o.lead; }
};

template <class T>
using MinHeap = std::priority_queue<T, std::vector<T>, std::greater<T>>;

// A FIFO of lead ids kept as runs of consecutive ids. Leads join a
// campaign's pending queue as they are added, in ascending id order, so an
// import of a million leads is one run instead of a million entries. A run
// is 8 bytes (first id in 40 bits, as PhoneIndex also assumes, and length - 1
// in 24), so the worst case (leads of two campaigns added alternately) costs
// what a plain queue of ids did.
class LeadIdQueue {
 public:
  bool empty() const { return runs_.empty(); }
  size_t size() const { return size_; }
  LeadId front() const { return runs_.front() & kIdMask; }
  void push_back(LeadId id) {
    if (!runs_.empty()) {
      uint64_t& back = runs_.back();
      const uint64_t length = (back >> kIdBits) + 1;
      if ((back & kIdMask) + length == id && length < kMaxRun) {
        back += uint64_t{1} << kIdBits;
        ++size_;
        return;
      }
    }
    runs_.push_back(id & kIdMask);
    ++size_;
  }
  void pop_front() {
    uint64_t& front = runs_.front();
    if ((front >> kIdBits) == 0) {
      runs_.pop_front();
    } else {
      front = (((front >> kIdBits) - 1) << kIdBits) | ((front & kIdMask) + 1);
    }
    --size_;
  }
  void clear() {
    runs_.clear();
    size_ = 0;
  }
  size_t MemoryBytes() const { return runs_.size() * sizeof(uint64_t); }

 private:
  static constexpr int kIdBits = 40;
  static constexpr uint64_t kIdMask = (uint64_t{1} << kIdBits) - 1;
  static constexpr uint64_t kMaxRun = uint64_t{1} << (64 - kIdBits);
  std::deque<uint64_t> runs_;
  size_t size_ = 0;
};

struct CampaignState {
  Campaign info;
  StatusCounts counts;
  LeadIdQueue pending;
  MinHeap<DueEntry> scheduled;
  // Scheduled entries a live claim found blocked by the settings in force;
  // a campaign_updated record moves them back into `scheduled`. (A replay
  // never parks, as no refused claim is in the log: its heap keeps them.)
  std::vector<DueEntry> parked;
};

struct DncMark {
  SeqNo seq = 0;  // the phone_marked_do_not_call record
  Timestamp ts = 0;
};

// Open-addressing set of lead ids keyed by their phone: finds every lead with
// a phone (do-not-call) and the lead with a phone in one campaign (duplicate
// check) in ~11 bytes per lead. Leads are never removed, so no tombstones.
class PhoneIndex {
 public:
  void Insert(uint64_t phone, LeadId lead, const LeadTable& leads);
  // Calls fn(lead) for every lead with `phone`, in ascending id order.
  template <class Fn>
  void ForEach(uint64_t phone, const LeadTable& leads, Fn&& fn) const;
  LeadId Find(uint64_t phone, CampaignId campaign, const LeadTable& leads) const;
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(uint64_t); }
  void Reserve(size_t leads, const LeadTable& rows);

 private:
  void Grow(const LeadTable& leads, size_t min_capacity);
  static size_t Mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
  // A slot holds a lead id in its low 40 bits and 24 bits of its phone's hash
  // above them, so a probe rarely has to read the (randomly placed) LeadRow
  // to rule a slot out. 0 = empty.
  static constexpr int kIdBits = 40;
  static constexpr uint64_t kIdMask = (uint64_t{1} << kIdBits) - 1;
  static uint64_t Tag(uint64_t phone) { return (Mix(phone) >> 40) << kIdBits; }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

struct State {
  LeadTable leads;
  std::vector<CampaignState> campaigns;
  std::unordered_map<std::string, CampaignId> campaign_by_name;
  PhoneIndex phones;
  std::unordered_map<uint64_t, DncMark> dnc;
  MinHeap<LeaseEntry> leases;

  SeqNo last_seq = 0;
  Timestamp last_ts = 0;
  uint64_t leads_digest = 0;  // XOR of RowDigest over all leads, kept by Apply
  Hash32 head{};  // SHA-256 of record last_seq

  // Change tracking for checkpoints (off in throwaway replays).
  bool track_changes = true;
  std::vector<LeadId> dirty_leads;
  std::vector<uint64_t> dirty_dnc;
  std::vector<std::pair<LeadId, SeqNo>> history_tail;  // (lead, seq) since the checkpoint

  LeadId next_lead() const { return leads.size() + 1; }
  CampaignId next_campaign() const { return static_cast<CampaignId>(campaigns.size() + 1); }
  LeadRow* lead(LeadId id) { return id >= 1 && id <= leads.size() ? &leads[id - 1] : nullptr; }
  const LeadRow* lead(LeadId id) const { return id >= 1 && id <= leads.size() ? &leads[id - 1] : nullptr; }
  CampaignState* campaign(CampaignId id) {
    return id >= 1 && id <= campaigns.size() ? &campaigns[id - 1] : nullptr;
  }
  const CampaignState* campaign(CampaignId id) const {
    return id >= 1 && id <= campaigns.size() ? &campaigns[id - 1] : nullptr;
  }
  const CampaignState* campaign(std::string_view name) const;

  void MarkDirty(LeadId id);
  // Rebuilds the queues from the lead rows (after loading a checkpoint).
  void RebuildQueues();
  size_t MemoryBytes() const;
};

// Whether a `scheduled` heap entry (due) still describes the lead: a retry
// or a requeue that has not been claimed or overtaken since.
bool IsScheduledAt(const LeadRow& row, Timestamp due);

// A 64-bit digest of one lead's derived state (the dirty bit excluded), for
// State::leads_digest. Not cryptographic: it catches damage, the hash chain
// of the log is what proves integrity.
uint64_t RowDigest(LeadId id, const LeadRow& row);

// Pops the heads of the campaign's dial queues that no longer describe a
// claimable lead, so that the heads are the oldest due candidates.
void DropStaleQueueHeads(const State& state, CampaignState& campaign);

// E.164 "+15551234567" <-> 15551234567. False for anything that is not "+"
// followed by 1..15 digits with a non-zero first digit.
bool PhoneToInt(std::string_view e164, uint64_t* out);
std::string PhoneToString(uint64_t phone);

template <class Fn>
void PhoneIndex::ForEach(uint64_t phone, const LeadTable& leads, Fn&& fn) const {
  if (slots_.empty()) return;
  std::vector<LeadId> found;
  size_t mask = slots_.size() - 1;
  uint64_t tag = Tag(phone);
  for (size_t i = Mix(phone) & mask;; i = (i + 1) & mask) {
    uint64_t slot = slots_[i];
    if (slot == 0) break;
    LeadId id = slot & kIdMask;
    if ((slot & ~kIdMask) == tag && leads[id - 1].phone == phone) found.push_back(id);
  }
  std::sort(found.begin(), found.end());
  for (LeadId id : found) fn(id);
}

}  // namespace leadlog
