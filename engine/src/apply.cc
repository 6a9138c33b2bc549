#include "apply.h"

#include <fmt/format.h>

#include "leadlog/csv.h"    // IsValidUtf8
#include "leadlog/store.h"  // FormatTime

namespace leadlog {
namespace {

// Refusal with the rule's identifier.
struct Refuse {
  std::string_view* rule_out;
  Status operator()(std::string_view rule, Status status) const {
    if (rule_out != nullptr) *rule_out = rule;
    return status;
  }
};

bool IsRetryable(LeadStatus s) {
  return s == LeadStatus::kNoAnswer || s == LeadStatus::kVoicemail || s == LeadStatus::kFailed;
}

void SetStatus(State& state, LeadRow& row, LeadStatus to) {
  StatusCounts& counts = state.campaigns[row.campaign - 1].counts;
  --counts.by_status[static_cast<int>(row.status)];
  ++counts.by_status[static_cast<int>(to)];
  row.status = to;
}

// The end of an open attempt: an outcome reported or its lease expired.
void FinishAttempt(State& state, LeadId id, LeadRow& row, LeadStatus outcome, Timestamp ts) {
  row.flags &= static_cast<uint8_t>(~LeadRow::kCallOpen);
  // Leases run for the same time, so ended calls sit near the top of the
  // lease heap: dropping them here keeps it near the number of open calls
  // even when `expire` runs rarely.
  while (!state.leases.empty()) {
    const LeaseEntry& top = state.leases.top();
    const LeadRow& r = state.leads[top.lead - 1];
    if (r.call_open() && r.attempt == top.attempt && r.when == top.until) break;
    state.leases.pop();
  }
  row.last_outcome = outcome;
  row.when = 0;
  // The call happened and is recorded, but a do_not_call lead never moves.
  if (row.status == LeadStatus::kDoNotCall) return;
  SetStatus(state, row, outcome);
  CampaignState& c = state.campaigns[row.campaign - 1];
  Duration delay = c.info.settings.RetryDelay(outcome);
  if (delay != kNever && row.attempts_used() < c.info.settings.max_attempts) {
    row.when = ts + delay;
    c.scheduled.push({row.when, id});
  }
}

Status ApplyCampaignCreated(State& state, const Event& e, Timestamp ts, const Refuse& refuse) {
  if (e.campaign != state.next_campaign()) {
    return refuse("campaign_id_order", Status::IllegalTransition(fmt::format(
                                           "campaign id {} out of order (next is {})", e.campaign, state.next_campaign())));
  }
  if (Status s = ValidateCampaignName(e.name); !s.ok()) return refuse("invalid_campaign", s);
  if (Status s = ValidateSettings(e.settings); !s.ok()) return refuse("invalid_settings", s);
  std::string name(e.name);
  if (state.campaign_by_name.count(name)) {
    return refuse("campaign_name_taken", Status::AlreadyExists(fmt::format("campaign '{}' already exists", name)));
  }
  CampaignState c;
  c.info = Campaign{e.campaign, name, e.settings, ts};
  state.campaigns.push_back(std::move(c));
  state.campaign_by_name.emplace(std::move(name), e.campaign);
  return Status::OK();
}

Status ApplyCampaignUpdated(State& state, const Event& e, const Refuse& refuse) {
  CampaignState* c = state.campaign(e.campaign);
  if (c == nullptr) return refuse("unknown_campaign", Status::NotFound(fmt::format("no campaign with id {}", e.campaign)));
  if (Status s = ValidateSettings(e.settings); !s.ok()) return refuse("invalid_settings", s);
  c->info.settings = e.settings;
  // Retries that claims found blocked by the old settings get another look.
  for (const DueEntry& entry : c->parked) c->scheduled.push(entry);
  c->parked.clear();
  return Status::OK();
}

Status ApplyLeadAdded(State& state, const Event& e, SeqNo seq, Timestamp ts, const Refuse& refuse) {
  CampaignState* c = state.campaign(e.campaign);
  if (c == nullptr) return refuse("unknown_campaign", Status::NotFound(fmt::format("no campaign with id {}", e.campaign)));
  if (e.lead != state.next_lead()) {
    return refuse("lead_id_order",
                  Status::IllegalTransition(fmt::format("lead id {} out of order (next is {})", e.lead, state.next_lead())));
  }
  if (seq > LeadRow::kMaxAddedSeq) {
    // A lead's row keeps its lead_added seq in 48 bits (89 years of 100K
    // events a second): a log this long is refused rather than misread.
    return refuse("log_too_long", Status::NotSupported(fmt::format(
                                      "record {} is past the last seq a lead can be added at ({})", seq, LeadRow::kMaxAddedSeq)));
  }
  uint64_t phone = 0;
  if (!PhoneToInt(e.phone, &phone)) {
    return refuse("invalid_phone", Status::InvalidArgument(fmt::format("phone '{}' is not in E.164 form", e.phone)));
  }
  if (LeadId other = state.phones.Find(phone, e.campaign, state.leads); other != 0) {
    return refuse("duplicate_phone", Status::AlreadyExists(fmt::format("phone {} is already lead {} in campaign '{}'",
                                                                       e.phone, other, c->info.name)));
  }
  LeadStatus expected = state.dnc.count(phone) ? LeadStatus::kDoNotCall : LeadStatus::kPending;
  if (e.status != expected) {
    return refuse(expected == LeadStatus::kDoNotCall ? "do_not_call_added_callable" : "initial_status",
                  Status::IllegalTransition(fmt::format("lead {} must be added as {}, not {}", e.lead,
                                                        LeadStatusName(expected), LeadStatusName(e.status))));
  }
  LeadRow row;
  row.phone = phone;
  row.when = expected == LeadStatus::kPending ? ts : 0;
  row.added_seq = seq;
  row.campaign = e.campaign;
  row.status = expected;
  state.leads.push_back(row);
  ++c->counts.by_status[static_cast<int>(expected)];
  ++c->counts.total;
  state.phones.Insert(phone, e.lead, state.leads);
  if (expected == LeadStatus::kPending) c->pending.push_back(e.lead);
  state.MarkDirty(e.lead);
  return Status::OK();
}

// Finds the lead and checks the record names its campaign.
Status FindLead(State& state, const Event& e, const Refuse& refuse, LeadRow** out) {
  LeadRow* row = state.lead(e.lead);
  if (row == nullptr) return refuse("unknown_lead", Status::NotFound(fmt::format("no lead with id {}", e.lead)));
  if (row->campaign != e.campaign) {
    return refuse("campaign_mismatch", Status::IllegalTransition(fmt::format(
                                           "lead {} is in campaign {}, not {}", e.lead, row->campaign, e.campaign)));
  }
  *out = row;
  return Status::OK();
}

Status ApplyLeadClaimed(State& state, const Event& e, Timestamp ts, const Refuse& refuse) {
  LeadRow* row = nullptr;
  if (Status s = FindLead(state, e, refuse, &row); !s.ok()) return s;
  if (row->status == LeadStatus::kDoNotCall || state.dnc.count(row->phone)) {
    return refuse("do_not_call_claimed", Status::IllegalTransition(fmt::format(
                                             "lead {} is do-not-call and must never be called", e.lead)));
  }
  if (e.attempt != row->attempt + 1) {
    return refuse("attempt_number", Status::IllegalTransition(fmt::format(
                                        "lead {}: claim numbered attempt {}, expected {}", e.lead, e.attempt, row->attempt + 1)));
  }
  const CampaignSettings& settings = state.campaigns[row->campaign - 1].info.settings;
  if (IsRetryable(row->status)) {
    if (settings.RetryDelay(row->status) == kNever) {
      return refuse("retry_disabled", Status::IllegalTransition(fmt::format(
                                          "lead {}: the campaign does not retry {}", e.lead, LeadStatusName(row->status))));
    }
    if (row->attempts_used() >= settings.max_attempts) {
      return refuse("attempt_budget",
                    Status::IllegalTransition(fmt::format("lead {} has used all {} attempts of its budget", e.lead,
                                                          settings.max_attempts)));
    }
    if (row->when == 0) {
      return refuse("retry_not_scheduled",
                    Status::IllegalTransition(fmt::format("lead {} has no retry scheduled", e.lead)));
    }
    if (ts < row->when) {
      return refuse("retry_too_early", Status::IllegalTransition(fmt::format(
                                           "lead {} is not due before {}", e.lead, FormatTime(row->when))));
    }
  } else if (row->status != LeadStatus::kPending) {
    return refuse("illegal_transition", Status::IllegalTransition(fmt::format(
                                            "lead {} cannot be claimed from {}", e.lead, LeadStatusName(row->status))));
  }
  if (e.lease_until <= ts) {
    return refuse("invalid_lease", Status::IllegalTransition(fmt::format("lead {}: lease ends before it starts", e.lead)));
  }
  // The lead leaves its dial queue (live claims take the head; a replay
  // follows the same order, so the entry is at the head here too).
  CampaignState& c = state.campaigns[row->campaign - 1];
  DropStaleQueueHeads(state, c);
  if (row->status == LeadStatus::kPending && row->attempt == 0) {
    if (!c.pending.empty() && c.pending.front() == e.lead) c.pending.pop_front();
  } else if (!c.scheduled.empty() && c.scheduled.top().lead == e.lead && c.scheduled.top().due == row->when) {
    c.scheduled.pop();
  }
  SetStatus(state, *row, LeadStatus::kCalling);
  row->attempt = e.attempt;
  ++row->budget_used;  // <= kMaxAttempts: the budget was checked above
  row->when = e.lease_until;
  row->flags |= LeadRow::kCallOpen;
  state.leases.push({e.lease_until, e.lead, e.attempt});
  state.MarkDirty(e.lead);
  return Status::OK();
}

// Shared by outcome_reported and lease_expired: the attempt must be the
// lead's current, still open one.
Status CheckOpenAttempt(const LeadRow& row, const Event& e, const Refuse& refuse) {
  if (e.attempt == 0 || e.attempt != row.attempt) {
    return refuse("not_current_attempt",
                  Status::IllegalTransition(fmt::format("lead {} is not on attempt {} (its latest attempt is {})", e.lead,
                                                        e.attempt, row.attempt)));
  }
  if (!row.call_open()) {
    return refuse("attempt_finished", Status::Conflict(fmt::format("attempt {} of lead {} already ended as {}", e.attempt,
                                                                   e.lead, LeadStatusName(row.last_outcome))));
  }
  return Status::OK();
}

Status ApplyOutcomeReported(State& state, const Event& e, Timestamp ts, const Refuse& refuse) {
  if (!IsOutcome(e.status)) {
    return refuse("invalid_outcome", Status::InvalidArgument(fmt::format(
                                         "'{}' is not an outcome (completed, no_answer, voicemail, failed)",
                                         LeadStatusName(e.status))));
  }
  LeadRow* row = nullptr;
  if (Status s = FindLead(state, e, refuse, &row); !s.ok()) return s;
  if (Status s = CheckOpenAttempt(*row, e, refuse); !s.ok()) return s;
  FinishAttempt(state, e.lead, *row, e.status, ts);
  state.MarkDirty(e.lead);
  return Status::OK();
}

Status ApplyLeaseExpired(State& state, const Event& e, Timestamp ts, const Refuse& refuse) {
  LeadRow* row = nullptr;
  if (Status s = FindLead(state, e, refuse, &row); !s.ok()) return s;
  if (Status s = CheckOpenAttempt(*row, e, refuse); !s.ok()) return s;
  if (ts < row->when) {
    return refuse("lease_not_expired", Status::IllegalTransition(fmt::format(
                                           "lead {}: the lease of attempt {} runs until {}", e.lead, e.attempt,
                                           FormatTime(row->when))));
  }
  FinishAttempt(state, e.lead, *row, LeadStatus::kNoAnswer, ts);
  state.MarkDirty(e.lead);
  return Status::OK();
}

Status ApplyPhoneMarked(State& state, const Event& e, SeqNo seq, Timestamp ts, const Refuse& refuse) {
  uint64_t phone = 0;
  if (!PhoneToInt(e.phone, &phone)) {
    return refuse("invalid_phone", Status::InvalidArgument(fmt::format("phone '{}' is not in E.164 form", e.phone)));
  }
  if (state.dnc.count(phone)) {
    return refuse("already_do_not_call",
                  Status::IllegalTransition(fmt::format("phone {} is already on the do-not-call list", e.phone)));
  }
  state.dnc.emplace(phone, DncMark{seq, ts});
  if (state.track_changes) state.dirty_dnc.push_back(phone);
  return Status::OK();
}

Status ApplyLeadMarked(State& state, const Event& e, const Refuse& refuse) {
  LeadRow* row = nullptr;
  if (Status s = FindLead(state, e, refuse, &row); !s.ok()) return s;
  if (row->status == LeadStatus::kDoNotCall) {
    return refuse("already_do_not_call", Status::IllegalTransition(fmt::format("lead {} is already do_not_call", e.lead)));
  }
  // An open call keeps its lease in `when` so that its outcome or expiry can
  // still be recorded; otherwise nothing is due any more.
  if (!row->call_open()) row->when = 0;
  SetStatus(state, *row, LeadStatus::kDoNotCall);
  state.MarkDirty(e.lead);
  return Status::OK();
}

Status ApplyLeadRequeued(State& state, const Event& e, Timestamp ts, const Refuse& refuse) {
  LeadRow* row = nullptr;
  if (Status s = FindLead(state, e, refuse, &row); !s.ok()) return s;
  switch (row->status) {
    case LeadStatus::kCompleted:
    case LeadStatus::kNoAnswer:
    case LeadStatus::kVoicemail:
    case LeadStatus::kFailed:
      break;
    case LeadStatus::kDoNotCall:
      return refuse("illegal_transition", Status::IllegalTransition(fmt::format(
                                              "lead {} is do_not_call, which is permanent", e.lead)));
    case LeadStatus::kCalling:
      return refuse("illegal_transition",
                    Status::IllegalTransition(fmt::format(
                        "lead {} is calling (attempt {}); report its outcome or let its lease expire first", e.lead,
                        row->attempt)));
    case LeadStatus::kPending:
      return refuse("illegal_transition",
                    Status::IllegalTransition(fmt::format("lead {} is already pending", e.lead)));
  }
  if (state.dnc.count(row->phone)) {
    return refuse("do_not_call_listed", Status::IllegalTransition(fmt::format(
                                            "lead {}: its phone is on the do-not-call list", e.lead)));
  }
  SetStatus(state, *row, LeadStatus::kPending);
  row->budget_used = 0;
  row->when = ts;
  state.campaigns[row->campaign - 1].scheduled.push({ts, e.lead});
  state.MarkDirty(e.lead);
  return Status::OK();
}

}  // namespace

Status ValidateSettings(const CampaignSettings& s) {
  if (s.max_attempts < 1 || s.max_attempts > kMaxAttempts) {
    return Status::InvalidArgument(fmt::format("max_attempts must be between 1 and {}, not {}", kMaxAttempts, s.max_attempts));
  }
  constexpr Duration kCentury = 100LL * 365 * 24 * kHour;
  for (auto [name, d] : {std::pair{"no_answer", s.retry_no_answer}, std::pair{"voicemail", s.retry_voicemail},
                         std::pair{"failed", s.retry_failed}}) {
    if (d != kNever && (d < 0 || d > kCentury)) {
      return Status::InvalidArgument(fmt::format("retry delay for {} must be 'never' or 0 to 100 years", name));
    }
  }
  if (s.lease <= 0 || s.lease > 7 * 24 * kHour) {
    return Status::InvalidArgument("the claim lease must be longer than 0 and at most 7 days");
  }
  return Status::OK();
}

Status ValidateCampaignName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("campaign name is empty");
  if (name.size() > 128) return Status::InvalidArgument("campaign name is longer than 128 bytes");
  if (!IsValidUtf8(name)) return Status::InvalidArgument("campaign name is not valid UTF-8");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("campaign name contains a control character");
  }
  return Status::OK();
}

Status Apply(State& state, const Event& e, SeqNo seq, Timestamp ts, std::string_view* rule) {
  Refuse refuse{rule};
  if (ts < state.last_ts) {
    return refuse("time_order", Status::IllegalTransition(fmt::format("record time {} is before the previous record's {}",
                                                                      FormatTime(ts), FormatTime(state.last_ts))));
  }
  // The digest of the views follows every change of a lead row; only the
  // event's own lead ever changes.
  const LeadRow* before_row = e.lead != 0 ? state.lead(e.lead) : nullptr;
  uint64_t before = before_row != nullptr ? RowDigest(e.lead, *before_row) : 0;
  Status s;
  switch (e.type) {
    case EventType::kCampaignCreated: s = ApplyCampaignCreated(state, e, ts, refuse); break;
    case EventType::kCampaignUpdated: s = ApplyCampaignUpdated(state, e, refuse); break;
    case EventType::kLeadAdded: s = ApplyLeadAdded(state, e, seq, ts, refuse); break;
    case EventType::kLeadClaimed: s = ApplyLeadClaimed(state, e, ts, refuse); break;
    case EventType::kOutcomeReported: s = ApplyOutcomeReported(state, e, ts, refuse); break;
    case EventType::kLeaseExpired: s = ApplyLeaseExpired(state, e, ts, refuse); break;
    case EventType::kPhoneMarkedDoNotCall: s = ApplyPhoneMarked(state, e, seq, ts, refuse); break;
    case EventType::kLeadMarkedDoNotCall: s = ApplyLeadMarked(state, e, refuse); break;
    case EventType::kLeadRequeued: s = ApplyLeadRequeued(state, e, ts, refuse); break;
    default:
      return refuse("unknown_event", Status::Corruption(fmt::format("unknown event type {}", static_cast<int>(e.type))));
  }
  if (!s.ok()) return s;
  if (const LeadRow* after = e.lead != 0 ? state.lead(e.lead) : nullptr; after != nullptr) {
    state.leads_digest ^= before ^ RowDigest(e.lead, *after);
  }
  state.last_seq = seq;
  state.last_ts = ts;
  // The history index leaves out a lead's lead_added record: its row holds
  // that seq (added_seq) already, and an import would otherwise double what
  // its first checkpoint writes.
  if (state.track_changes && e.lead != 0 && e.type != EventType::kLeadAdded) {
    state.history_tail.emplace_back(e.lead, seq);
  }
  return Status::OK();
}

}  // namespace leadlog
