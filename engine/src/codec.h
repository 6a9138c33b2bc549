// Encoding and decoding of log records (schema/leadlog.fbs) and views
// (schema/views.fbs). The one place that touches the generated FlatBuffers
// code, so a schema change is local to this file.
//
// Invariants:
//  - Every scalar is written explicitly (ForceDefaults): a stored record's
//    meaning never depends on a default in the schema.
//  - Decode never trusts its input: a record is run through the FlatBuffers
//    verifier and its required fields are checked before any field is read,
//    so hostile or damaged bytes yield Status::Corruption, never a crash.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "event.h"
#include "hash.h"
#include "leadlog/status.h"
#include "leadlog/types.h"
#include "state.h"

namespace leadlog {

struct DecodedRecord {
  SeqNo seq = 0;
  Timestamp ts = 0;
  Hash32 prev_hash{};
  Event event;  // views into the record's bytes
};

class RecordEncoder {
 public:
  RecordEncoder();
  ~RecordEncoder();
  // The encoded bytes stay valid until the next Encode call.
  std::string_view Encode(SeqNo seq, Timestamp ts, const Hash32& prev_hash, const Event& event,
                          const LeadProfile* profile);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Verifies and decodes; the views in `out->event` point into `bytes`.
Status DecodeRecord(std::string_view bytes, DecodedRecord* out);
// Full decode for tools (dump, history): copies every field.
Status DecodeLoggedEvent(std::string_view bytes, LoggedEvent* out);
// The profile of a lead_added record.
Status DecodeProfile(std::string_view bytes, LeadProfile* profile, Timestamp* ts);

// ---- views ----
std::string EncodeLeadView(LeadId id, const LeadRow& row);
Status DecodeLeadView(std::string_view bytes, LeadId* id, LeadRow* row);

std::string EncodeCampaignView(const CampaignState& campaign);
Status DecodeCampaignView(std::string_view bytes, Campaign* info, StatusCounts* counts);

std::string EncodeDncView(std::string_view phone, const DncMark& mark, std::string_view reason);
Status DecodeDncView(std::string_view bytes, std::string* phone, DncMark* mark, std::string* reason);

struct CheckpointInfo {
  SeqNo seq = 0;
  Hash32 hash{};
  Timestamp ts = 0;
  LeadId next_lead = 1;
  CampaignId next_campaign = 1;
  uint64_t leads = 0;
  uint64_t dnc_phones = 0;
  uint64_t leads_digest = 0;
};
std::string EncodeCheckpoint(const CheckpointInfo& info);
Status DecodeCheckpoint(std::string_view bytes, CheckpointInfo* info);

}  // namespace leadlog
