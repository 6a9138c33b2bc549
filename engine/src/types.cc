// Names of the domain vocabulary.
//
// Invariants: every name here is a wire name (log dumps, JSON, rejects files)
// and never changes once released; Parse* accept exactly the names the
// matching *Name functions return and nothing else. An out-of-range enum value
// (e.g. from a damaged record) maps to "unknown" rather than crashing.
#include <string_view>

#include "leadlog/types.h"

#include "hash.h"

namespace leadlog {

namespace {

constexpr std::string_view kStatusNames[kNumStatuses] = {
    "pending", "calling", "completed", "no_answer", "voicemail", "failed", "do_not_call",
};

// Indexed by EventType value; 0 is not a valid type.
constexpr std::string_view kEventNames[] = {
    "unknown",        "campaign_created", "campaign_updated",         "lead_added",
    "lead_claimed",   "outcome_reported", "lease_expired",            "phone_marked_do_not_call",
    "lead_marked_do_not_call", "lead_requeued",
};
constexpr int kNumEventNames = sizeof(kEventNames) / sizeof(kEventNames[0]);

}  // namespace

std::string_view LeadStatusName(LeadStatus status) {
  const int i = static_cast<int>(status);
  if (i < 0 || i >= kNumStatuses) return "unknown";
  return kStatusNames[i];
}

bool ParseLeadStatus(std::string_view name, LeadStatus* out) {
  for (int i = 0; i < kNumStatuses; ++i) {
    if (kStatusNames[i] == name) {
      *out = static_cast<LeadStatus>(i);
      return true;
    }
  }
  return false;
}

bool IsOutcome(LeadStatus status) {
  switch (status) {
    case LeadStatus::kCompleted:
    case LeadStatus::kNoAnswer:
    case LeadStatus::kVoicemail:
    case LeadStatus::kFailed:
      return true;
    default:
      return false;
  }
}

Duration CampaignSettings::RetryDelay(LeadStatus outcome) const {
  switch (outcome) {
    case LeadStatus::kNoAnswer:
      return retry_no_answer;
    case LeadStatus::kVoicemail:
      return retry_voicemail;
    case LeadStatus::kFailed:
      return retry_failed;
    default:
      return kNever;
  }
}

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kMissingPhone:
      return "missing_phone";
    case RejectReason::kInvalidPhone:
      return "invalid_phone";
    case RejectReason::kDuplicate:
      return "duplicate";
    case RejectReason::kInvalidEmail:
      return "invalid_email";
    case RejectReason::kMalformedRow:
      return "malformed_row";
    case RejectReason::kFieldTooLong:
      return "field_too_long";
    case RejectReason::kInvalidUtf8:
      return "invalid_utf8";
  }
  return "unknown";
}

std::string_view EventTypeName(EventType type) {
  const int i = static_cast<int>(type);
  if (i <= 0 || i >= kNumEventNames) return "unknown";
  return kEventNames[i];
}

bool ParseEventType(std::string_view name, EventType* out) {
  for (int i = 1; i < kNumEventNames; ++i) {
    if (kEventNames[i] == name) {
      *out = static_cast<EventType>(i);
      return true;
    }
  }
  return false;
}

std::string Digest::Hex() const { return HexOf(hash); }

}  // namespace leadlog
