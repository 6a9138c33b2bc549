// The domain vocabulary shared by the public API: ids, time, statuses,
// campaign settings, leads, claims, counts and decoded log events.
//
// Invariants:
//  - Time is a Timestamp: microseconds since the Unix epoch, UTC.
//  - Lead ids are dense and ascending from 1 in the order leads were added;
//    campaign ids likewise. Sequence numbers of the log are dense from 1.
//  - A lead's attempt numbers only grow: attempt N is the lead's Nth claim ever.
//    A requeue starts a fresh budget (attempts_used back to 0) but never reuses
//    an attempt number, so a late report can never be mistaken for a new call.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leadlog {

using LeadId = uint64_t;
using CampaignId = uint32_t;
using SeqNo = uint64_t;
using Timestamp = int64_t;  // microseconds since 1970-01-01T00:00:00Z
using Duration = int64_t;   // microseconds

constexpr Duration kSecond = 1'000'000;
constexpr Duration kMinute = 60 * kSecond;
constexpr Duration kHour = 60 * kMinute;
// A retry delay of kNever means "this outcome is not retried".
constexpr Duration kNever = -1;
// Passed as `now` to mean "ask Options::clock".
constexpr Timestamp kClockNow = INT64_MIN;

// Wire order is part of the log format (schema/leadlog.fbs): never reorder.
enum class LeadStatus : uint8_t {
  kPending = 0,
  kCalling = 1,
  kCompleted = 2,
  kNoAnswer = 3,
  kVoicemail = 4,
  kFailed = 5,
  kDoNotCall = 6,
};
constexpr int kNumStatuses = 7;

// "pending", "calling", ... "do_not_call".
std::string_view LeadStatusName(LeadStatus status);
// Accepts exactly the wire names; false for anything else.
bool ParseLeadStatus(std::string_view name, LeadStatus* out);
// completed, no_answer, voicemail, failed: what a dialer may report.
bool IsOutcome(LeadStatus status);

struct CampaignSettings {
  uint32_t max_attempts = 3;              // claims per budget; >= 1
  Duration retry_no_answer = 1 * kHour;   // kNever: not retried
  Duration retry_voicemail = 4 * kHour;
  Duration retry_failed = kNever;
  Duration lease = 15 * kMinute;          // > 0

  // The retry delay for a retryable outcome; kNever for completed and others.
  Duration RetryDelay(LeadStatus outcome) const;
  bool operator==(const CampaignSettings&) const = default;
};

struct Campaign {
  CampaignId id = 0;
  std::string name;
  CampaignSettings settings;
  Timestamp created = 0;
};

struct CustomField {
  std::string key;
  std::string value;
  bool operator==(const CustomField&) const = default;
};

// A lead as a caller hands it in (import row or API call): the phone as written.
struct LeadInput {
  std::string phone;
  std::string first_name;
  std::string last_name;
  std::string email;
  std::vector<CustomField> custom;
};

// What the assistant needs to place a call; the phone is E.164.
struct LeadProfile {
  std::string phone;
  std::string first_name;
  std::string last_name;
  std::string email;
  std::vector<CustomField> custom;
  bool operator==(const LeadProfile&) const = default;
};

struct LeadInfo {
  LeadId id = 0;
  CampaignId campaign = 0;
  std::string campaign_name;
  LeadStatus status = LeadStatus::kPending;
  uint32_t attempts = 0;       // claims ever made (= the latest attempt number)
  uint32_t attempts_used = 0;  // claims in the current budget (reset by requeue)
  Timestamp added = 0;
  Timestamp due = 0;           // when it may next be claimed; 0 if it may not
  Timestamp lease_until = 0;   // while calling (or a call is still open)
  LeadProfile profile;
};

struct ClaimedLead {
  LeadId lead = 0;
  CampaignId campaign = 0;
  uint32_t attempt = 0;
  Timestamp lease_until = 0;
  LeadProfile profile;
};

struct StatusCounts {
  std::array<uint64_t, kNumStatuses> by_status{};
  uint64_t total = 0;
  uint64_t operator[](LeadStatus s) const { return by_status[static_cast<int>(s)]; }
  bool operator==(const StatusCounts&) const = default;
};

// Why an import row was not added. The names are stable (rejects files, JSON).
enum class RejectReason : uint8_t {
  kMissingPhone,
  kInvalidPhone,
  kDuplicate,
  kInvalidEmail,
  kMalformedRow,
  kFieldTooLong,
  kInvalidUtf8,
};
std::string_view RejectReasonName(RejectReason reason);

struct RowReject {
  size_t row = 0;  // index into the input vector
  RejectReason reason = RejectReason::kMalformedRow;
  std::string detail;  // human sentence: "phone '+1 555' is not a valid number"
};

struct AddLeadsResult {
  uint64_t imported = 0;     // leads added (including do_not_call ones)
  uint64_t do_not_call = 0;  // of those, added directly as do_not_call
  std::vector<LeadId> ids;   // per input row: its lead id, or 0 if rejected
  std::vector<RowReject> rejects;
};

struct AddOptions {
  // ISO 3166 region ("US", "GB") used to read national-format numbers;
  // empty: only international (+...) numbers are accepted.
  std::string default_region;
};

enum class EventType : uint8_t {
  kCampaignCreated = 1,
  kCampaignUpdated = 2,
  kLeadAdded = 3,
  kLeadClaimed = 4,
  kOutcomeReported = 5,
  kLeaseExpired = 6,
  kPhoneMarkedDoNotCall = 7,
  kLeadMarkedDoNotCall = 8,
  kLeadRequeued = 9,
};
// "campaign_created", "lead_added", ...
std::string_view EventTypeName(EventType type);
bool ParseEventType(std::string_view name, EventType* out);

// One decoded log record, for dump, history and audit tools.
struct LoggedEvent {
  SeqNo seq = 0;
  Timestamp ts = 0;
  EventType type = EventType::kLeadAdded;
  LeadId lead = 0;          // 0 when the event concerns no single lead
  CampaignId campaign = 0;  // 0 when unknown to the record itself
  uint32_t attempt = 0;     // claimed, reported, expired
  LeadStatus status = LeadStatus::kPending;  // lead_added: initial; reported: outcome
  Timestamp lease_until = 0;                 // claimed
  std::string dialer;                        // claimed
  std::string reason;                        // reported, dnc, requeue
  std::string campaign_name;                 // campaign events
  CampaignSettings settings;                 // campaign events
  LeadProfile profile;                       // lead_added (profile.phone also for dnc)
};

struct Digest {
  SeqNo seq = 0;
  std::array<uint8_t, 32> hash{};  // SHA-256 of record `seq`; all zero for an empty log
  std::string Hex() const;
};

struct DncEntry {
  std::string phone;
  Timestamp ts = 0;
  SeqNo seq = 0;
  std::string reason;
};

struct DncResult {
  bool newly_added = false;     // false: the phone was already listed (nothing written)
  std::vector<LeadId> moved;    // leads moved to do_not_call by this call
};

struct AuditProblem {
  SeqNo seq = 0;     // 0 when the problem is not tied to one record (views)
  LeadId lead = 0;
  std::string rule;  // stable identifier: "hash_chain", "dense_seq", "illegal_transition", ...
  std::string detail;
};

struct AuditReport {
  uint64_t events = 0;
  SeqNo last_seq = 0;
  std::vector<AuditProblem> problems;
  bool ok() const { return problems.empty(); }
};

}  // namespace leadlog
