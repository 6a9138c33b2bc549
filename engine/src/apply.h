// Apply: the state machine. The only code that changes State, and the only
// place where the rules of DESIGN.md "Statuses and transitions" live. Live
// writes, recovery, replay, rebuild and verify all call it.
//
// Invariants:
//  - Apply either accepts the event and applies all of it, or refuses it and
//    changes nothing. On refusal `*rule` names the rule broken (a stable
//    identifier used by verify) and the Status says why in words.
//  - Apply never reads the clock: the record's own timestamp is "now", so a
//    replay reaches exactly the state the live engine had.
//  - The campaign settings consulted are those in force at the record, i.e.
//    after every campaign_updated record before it.
#pragma once

#include <string_view>

#include "event.h"
#include "leadlog/status.h"
#include "state.h"

namespace leadlog {

Status Apply(State& state, const Event& event, SeqNo seq, Timestamp ts, std::string_view* rule = nullptr);

// Settings a campaign may have: max_attempts 1..kMaxAttempts, delays >= 0 or
// kNever, lease > 0 and at most a week.
inline constexpr uint32_t kMaxAttempts = 1000;
static_assert(kMaxAttempts <= LeadRow::kMaxBudgetUsed, "a budget's attempts fit in LeadRow::budget_used");
Status ValidateSettings(const CampaignSettings& settings);
// Campaign names: 1..128 bytes of UTF-8 without control characters.
Status ValidateCampaignName(std::string_view name);

}  // namespace leadlog
