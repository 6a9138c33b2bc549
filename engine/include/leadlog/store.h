// Store: one leadlog database. The whole public API of the engine.
//
// Invariants:
//  - Every change is one or more events appended to the log in one atomic
//    RocksDB WriteBatch; the call returns only once that batch is committed at
//    the configured Durability. A call that fails writes nothing.
//  - Everything a Store returns (leads, counts, the queue) is a function of the
//    log up to its newest committed record: no reader ever sees a change that
//    is not in the log, or misses one that is.
//  - A Store is thread-safe. Concurrent writers are committed in groups.
//  - No path hands a do_not_call lead, or a lead whose phone is on the
//    do-not-call list, to a dialer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "leadlog/options.h"
#include "leadlog/status.h"
#include "leadlog/types.h"

namespace leadlog {

struct LogFilter {
  SeqNo from = 1;
  SeqNo to = UINT64_MAX;  // inclusive
  CampaignId campaign = 0;  // 0: any
  LeadId lead = 0;          // 0: any
  bool any_type = true;
  EventType type = EventType::kLeadAdded;  // used when !any_type
};

struct ReplayTarget {
  SeqNo until_seq = UINT64_MAX;    // inclusive
  Timestamp until_ts = INT64_MAX;  // inclusive
};

struct CampaignCounts {
  Campaign campaign;
  StatusCounts counts;
};

struct VerifyOptions {
  // When set, also prove that record `digest.seq` hashes to `digest.hash`,
  // i.e. the log up to there is the one that digest was taken of.
  bool check_digest = false;
  Digest digest;
  // Also compare the stored views (checkpoint + tail) with a fresh replay.
  bool check_views = true;
};

class Store {
 public:
  // Opens (or creates, with Options::create_if_missing) the database in `path`.
  // Refuses a directory that holds a RocksDB database that is not leadlog's,
  // one written by a newer schema version, and one another process holds open
  // for writing (Status::Busy; read_only opens still work then).
  static Status Open(const Options& options, const std::string& path,
                     std::unique_ptr<Store>* store);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Writes a final checkpoint (unless read-only) and closes.
  virtual ~Store();

  // ---- campaigns ----
  virtual Result<Campaign> CreateCampaign(const std::string& name, const CampaignSettings& settings,
                                          Timestamp now = kClockNow) = 0;
  // New settings apply from now on; a replay applies those in force at each moment.
  virtual Result<Campaign> UpdateCampaign(const std::string& name, const CampaignSettings& settings,
                                          Timestamp now = kClockNow) = 0;
  virtual Result<Campaign> GetCampaign(std::string_view name) const = 0;
  virtual std::vector<Campaign> ListCampaigns() const = 0;

  // ---- leads ----
  // Adds one lead; InvalidArgument (with the reject reason's name in the
  // message) or AlreadyExists for a duplicate phone in the campaign.
  virtual Result<LeadId> AddLead(const std::string& campaign, const LeadInput& lead,
                                 const AddOptions& options = {}, Timestamp now = kClockNow) = 0;
  // Adds many leads atomically (one batch): valid rows are added in input
  // order (ascending ids), invalid ones are listed in rejects with a reason.
  // Phones are validated in parallel. A phone on the do-not-call list is added
  // directly as do_not_call. Fails as a whole only for an unknown campaign or
  // an I/O error.
  virtual Result<AddLeadsResult> AddLeads(const std::string& campaign, const std::vector<LeadInput>& leads,
                                          const AddOptions& options = {}, Timestamp now = kClockNow) = 0;
  virtual Result<LeadInfo> GetLead(LeadId id) const = 0;
  // Every lead with that phone, in every campaign, by ascending id. The phone
  // may be in any form that normalizes with `default_region`.
  virtual Result<std::vector<LeadInfo>> FindLeadsByPhone(std::string_view phone,
                                                         std::string_view default_region = "") const = 0;

  // ---- the dialer ----
  // Atomically hands out up to n due leads of the campaign (pending ones and
  // those whose retry time has come), oldest due first, ties by lead id, and
  // moves each to calling. Two callers never receive the same lead.
  virtual Result<std::vector<ClaimedLead>> Claim(const std::string& campaign, size_t n,
                                                 const std::string& dialer_id, Timestamp now = kClockNow) = 0;
  // Records how attempt `attempt` of `lead` ended (completed, no_answer,
  // voicemail, failed). The same report twice is an OK no-op; a different
  // outcome for a finished attempt is Conflict. The returned state's profile
  // holds only the phone (GetLead has the rest): a report costs no read.
  virtual Result<LeadInfo> Report(LeadId lead, uint32_t attempt, LeadStatus outcome, const std::string& reason,
                                  Timestamp now = kClockNow) = 0;
  // Ends every claim whose lease ran out: no_answer, reason lease_expired,
  // counted as an attempt. Returns the leads released (profile: phone only).
  virtual Result<std::vector<LeadInfo>> Expire(Timestamp now = kClockNow) = 0;
  // Puts a phone on the do-not-call list (permanent) and moves every lead
  // with it, in every campaign, to do_not_call (one event each). A phone
  // already listed writes no new listing (newly_added is false).
  virtual Result<DncResult> AddDoNotCall(std::string_view phone, const std::string& reason,
                                         std::string_view default_region = "", Timestamp now = kClockNow) = 0;
  // Moves one lead to do_not_call (its phone is not listed). A lead already
  // do_not_call is an OK no-op.
  virtual Result<LeadInfo> MarkLeadDoNotCall(LeadId lead, const std::string& reason, Timestamp now = kClockNow) = 0;
  virtual Result<bool> IsDoNotCall(std::string_view phone, std::string_view default_region = "") const = 0;
  virtual Result<DncEntry> GetDoNotCall(std::string_view phone, std::string_view default_region = "") const = 0;
  // From completed, no_answer, voicemail or failed back to pending, with a
  // fresh attempt budget.
  virtual Result<LeadInfo> Requeue(LeadId lead, const std::string& reason, Timestamp now = kClockNow) = 0;

  // ---- views ----
  virtual Result<StatusCounts> Counts(std::string_view campaign) const = 0;
  virtual std::vector<CampaignCounts> AllCounts() const = 0;

  // ---- the log ----
  // Calls fn for each matching event in seq order until it returns false.
  virtual Status ScanLog(const LogFilter& filter, const std::function<bool(const LoggedEvent&)>& fn) const = 0;
  // Every event of one lead, oldest first, from the per-lead index.
  virtual Status History(LeadId lead, std::vector<LoggedEvent>* events) const = 0;
  virtual Digest Head() const = 0;
  virtual SeqNo LastSeq() const = 0;

  // ---- replay, audit, repair ----
  // The counts per campaign as of `target`, computed from the log alone.
  virtual Result<std::vector<CampaignCounts>> Replay(const ReplayTarget& target) const = 0;
  // The audit: hash chain, dense sequence, every transition legal under the
  // settings in force, dialer rules, and (optionally) the stored views equal to
  // a fresh replay. Problems go into the report; Status is non-OK only when the
  // audit itself could not run.
  virtual Status Verify(const VerifyOptions& options, AuditReport* report) const = 0;
  // Rewrites every stored view from a fresh replay of the log. Never touches the log.
  virtual Status Rebuild() = 0;
  // Writes the views to RocksDB now (normally automatic).
  virtual Status Checkpoint() = 0;
  // Read-only stores: catch up with the writer's newest records.
  virtual Status CatchUp() = 0;

  // Peak bytes held in memory by the views, for the memory budget report.
  virtual size_t ApproximateViewMemory() const = 0;

 protected:
  Store() = default;
};

// Normalizes a phone to E.164 with libphonenumber. `default_region` (e.g.
// "US") allows national formats. InvalidArgument names what is wrong.
Result<std::string> NormalizePhone(std::string_view phone, std::string_view default_region = "");

// RFC 3339 ("2026-12-04T10:00:00Z", fractional seconds and offsets accepted).
Result<Timestamp> ParseTime(std::string_view text);
std::string FormatTime(Timestamp ts);
// "90s", "15m", "4h", "2d", and "never" (kNever) where allow_never.
Result<Duration> ParseDuration(std::string_view text, bool allow_never = false);
std::string FormatDuration(Duration d);

}  // namespace leadlog
