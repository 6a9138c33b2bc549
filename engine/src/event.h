// Event: the in-memory form of one log record's event, as the apply function
// sees it. Live writes build one and encode it; replay decodes one.
//
// Invariants:
//  - String fields are views: into the caller's strings on the live path,
//    into the record's FlatBuffer on replay. An Event never owns memory, so
//    decoding for replay allocates nothing.
//  - Which fields are meaningful depends on `type` (see schema/leadlog.fbs).
#pragma once

#include <string_view>

#include "leadlog/types.h"

namespace leadlog {

struct Event {
  EventType type = EventType::kLeadAdded;
  LeadId lead = 0;
  CampaignId campaign = 0;
  uint32_t attempt = 0;
  // lead_added: the initial status; outcome_reported: the outcome.
  LeadStatus status = LeadStatus::kPending;
  Timestamp lease_until = 0;  // lead_claimed
  std::string_view phone;     // lead_added, phone_marked_do_not_call (E.164)
  std::string_view name;      // campaign_created
  std::string_view dialer;    // lead_claimed
  std::string_view reason;    // outcome_reported, *_do_not_call, lead_requeued
  CampaignSettings settings;  // campaign_created, campaign_updated
};

}  // namespace leadlog
