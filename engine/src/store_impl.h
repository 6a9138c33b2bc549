// StoreImpl: the engine behind the public Store interface.
//
// Invariants:
//  - state_ is what the views are, and it always equals Apply folded over the
//    log up to state_.last_seq, which is the newest committed record. The
//    leader applies a group's events to state_ and writes them while holding
//    state_mu_ exclusively, so no reader can see an event that is not
//    committed; if the write fails the store refuses all further writes
//    (memory is ahead of the log) until it is reopened.
//  - Only the group-commit leader appends to the log. Sequence numbers and
//    the hash chain are assigned under state_mu_, so the log is dense and
//    chained whatever the number of writer threads.
//  - A checkpoint is one atomic WriteBatch of the views as of one sequence
//    number (incremental), or a delete-meta-first rewrite with the meta record
//    last (full), so a crash at any point leaves either a valid checkpoint or
//    none; with none, opening replays the whole log.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "codec.h"
#include "event.h"
#include "hash.h"
#include "leadlog/store.h"
#include "state.h"
#include "write_queue.h"

namespace leadlog {


class StoreImpl;

// What one group commit is building: the events of the ops in the group.
class Batch {
 public:
  Batch(StoreImpl* store, rocksdb::WriteBatch* wb) : store_(store), wb_(wb) {}
  // The op's timestamp: `now` (or the clock), raised to the previous record's
  // time so the log's timestamps never decrease. InvalidArgument for absurd times.
  Status Time(Timestamp now, Timestamp* ts);
  // Applies the event to the state (refused: nothing changed) and appends its
  // record to the batch.
  Status Append(const Event& event, Timestamp ts, const LeadProfile* profile = nullptr);
  State& state();
  size_t events() const { return events_; }

 private:
  StoreImpl* store_;
  rocksdb::WriteBatch* wb_;
  size_t events_ = 0;
};

class StoreImpl final : public Store {
 public:
  StoreImpl(const Options& options, std::string path);
  ~StoreImpl() override;
  Status Init();

  Result<Campaign> CreateCampaign(const std::string& name, const CampaignSettings& settings, Timestamp now) override;
  Result<Campaign> UpdateCampaign(const std::string& name, const CampaignSettings& settings, Timestamp now) override;
  Result<Campaign> GetCampaign(std::string_view name) const override;
  std::vector<Campaign> ListCampaigns() const override;
  Result<LeadId> AddLead(const std::string& campaign, const LeadInput& lead, const AddOptions& options,
                         Timestamp now) override;
  Result<AddLeadsResult> AddLeads(const std::string& campaign, const std::vector<LeadInput>& leads,
                                  const AddOptions& options, Timestamp now) override;
  Result<LeadInfo> GetLead(LeadId id) const override;
  Result<std::vector<LeadInfo>> FindLeadsByPhone(std::string_view phone, std::string_view default_region) const override;
  Result<std::vector<ClaimedLead>> Claim(const std::string& campaign, size_t n, const std::string& dialer_id,
                                         Timestamp now) override;
  Result<LeadInfo> Report(LeadId lead, uint32_t attempt, LeadStatus outcome, const std::string& reason,
                          Timestamp now) override;
  Result<std::vector<LeadInfo>> Expire(Timestamp now) override;
  Result<DncResult> AddDoNotCall(std::string_view phone, const std::string& reason, std::string_view default_region,
                                 Timestamp now) override;
  Result<LeadInfo> MarkLeadDoNotCall(LeadId lead, const std::string& reason, Timestamp now) override;
  Result<bool> IsDoNotCall(std::string_view phone, std::string_view default_region) const override;
  Result<DncEntry> GetDoNotCall(std::string_view phone, std::string_view default_region) const override;
  Result<LeadInfo> Requeue(LeadId lead, const std::string& reason, Timestamp now) override;
  Result<StatusCounts> Counts(std::string_view campaign) const override;
  std::vector<CampaignCounts> AllCounts() const override;
  Status ScanLog(const LogFilter& filter, const std::function<bool(const LoggedEvent&)>& fn) const override;
  Status History(LeadId lead, std::vector<LoggedEvent>* events) const override;
  Digest Head() const override;
  SeqNo LastSeq() const override;
  Result<std::vector<CampaignCounts>> Replay(const ReplayTarget& target) const override;
  Status Verify(const VerifyOptions& options, AuditReport* report) const override;
  Status Rebuild() override;
  Status Checkpoint() override;
  Status CatchUp() override;
  size_t ApproximateViewMemory() const override;

  // ---- shared with audit.cc ----
  // Replays log records [from, to] into `state`. With `problems` null the
  // first problem stops the replay with Status::Corruption; otherwise each
  // problem is recorded and the replay goes on (the audit).
  Status ReplayInto(State* state, SeqNo from, SeqNo to, Timestamp until_ts, std::vector<AuditProblem>* problems,
                    uint64_t* records, bool report_progress, const rocksdb::Snapshot* snapshot = nullptr) const;
  // Loads the stored checkpoint into `state`; *found false when there is none.
  Status LoadCheckpoint(State* state, bool* found, std::vector<AuditProblem>* problems,
                        const rocksdb::Snapshot* snapshot = nullptr) const;
  void CheckHistoryIndex(const State& fresh, SeqNo checkpoint_seq, const rocksdb::Snapshot* snapshot,
                         std::vector<AuditProblem>* problems) const;

 private:
  friend class Batch;

  Status OpenDb();
  Status LoadState();
  // Replaces state_ with the stored checkpoint + log (after a failed write
  // left memory ahead of the log). Call with state_mu_ held exclusively.
  Status ReloadStateLocked();
  // Runs `op` in a group commit; returns the op's status. `bytes`: about how
  // much the op writes, when that is a lot (an import), so that the group's
  // WriteBatch is allocated once instead of regrown and copied.
  Status Commit(const std::function<Status(Batch&)>& op, size_t bytes = 0);
  Status WriteCheckpoint(bool full);
  Status WriteCheckpointLocked(bool full);  // checkpoint_mu_ held
  Status CreateDatabase();
  // One operator event on one lead (lead_marked_do_not_call, lead_requeued);
  // returns the lead's new state with its profile.
  Result<LeadInfo> CommitLeadEvent(LeadId lead, EventType type, const std::string& reason, Timestamp now);
  static std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors(const Options& options);
  void CheckpointLoop();
  Status CheckWritable() const;
  Timestamp ClockNow() const;
  Status ReadRecord(SeqNo seq, std::string* bytes, const rocksdb::Snapshot* snapshot = nullptr) const;
  LeadInfo InfoOf(LeadId id, const LeadRow& row) const;  // without profile; call under state_mu_
  // The profile and added time, from the lead_added record `added_seq`.
  Status FillProfile(LeadInfo* info, SeqNo added_seq) const;
  Status FetchProfile(SeqNo added_seq, LeadProfile* profile, Timestamp* added) const;

  Options options_;
  std::string path_;
  std::string scratch_dir_;
  bool owns_scratch_ = false;
  rocksdb::DB* db_ = nullptr;
 public:
  // For audit.cc: a consistent view of the log and the checkpoint together.
  rocksdb::DB* db() const { return db_; }
 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* leads_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* campaigns_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* dnc_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* lead_events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;

  mutable std::shared_mutex state_mu_;
  State state_;
  RecordEncoder encoder_;  // guarded by state_mu_ (exclusive)
  Sha256 sha_;             // guarded by state_mu_ (exclusive)
  Status bg_error_;        // guarded by state_mu_
  bool views_from_full_replay_ = false;  // guarded by state_mu_: next checkpoint is full
  // Off while the views were derived for an audit or repair (kReplayLog) and
  // Rebuild has not run: such a store writes no checkpoint behind its user.
  std::atomic<bool> checkpoints_enabled_{true};
  uint64_t events_since_checkpoint_ = 0;  // guarded by state_mu_
  std::vector<std::pair<LeadId, SeqNo>> history_in_flight_;  // guarded by state_mu_

  WriteQueue write_queue_;

  std::mutex checkpoint_mu_;  // serializes checkpoints
  std::mutex cp_signal_mu_;
  std::condition_variable cp_signal_;
  bool cp_requested_ = false;
  bool shutting_down_ = false;
  std::thread checkpoint_thread_;
};

}  // namespace leadlog
