#include "codec.h"

#include <flatbuffers/flatbuffers.h>
#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "leadlog_generated.h"
#include "views_generated.h"

namespace leadlog {
namespace {

namespace fbs = leadlog::fb;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

std::string_view View(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

fbs::LeadStatus ToFb(LeadStatus s) { return static_cast<fbs::LeadStatus>(s); }

bool FromFb(fbs::LeadStatus s, LeadStatus* out) {
  auto v = static_cast<uint8_t>(s);
  if (v >= kNumStatuses) return false;
  *out = static_cast<LeadStatus>(v);
  return true;
}

Offset<fbs::CampaignSettings> EncodeSettings(FlatBufferBuilder& fbb, const CampaignSettings& s) {
  return fbs::CreateCampaignSettings(fbb, s.max_attempts, s.retry_no_answer, s.retry_voicemail, s.retry_failed, s.lease);
}

CampaignSettings DecodeSettings(const fbs::CampaignSettings* s) {
  CampaignSettings out;
  out.max_attempts = s->max_attempts();
  out.retry_no_answer = s->retry_no_answer_us();
  out.retry_voicemail = s->retry_voicemail_us();
  out.retry_failed = s->retry_failed_us();
  out.lease = s->lease_us();
  return out;
}

Offset<flatbuffers::String> OptString(FlatBufferBuilder& fbb, std::string_view s) {
  return s.empty() ? Offset<flatbuffers::String>() : fbb.CreateString(s.data(), s.size());
}

Status Bad(const char* what) { return Status::Corruption(fmt::format("record does not decode: {}", what)); }

// FlatBuffers reads its scalars in place, so a buffer must start 8-byte
// aligned; RocksDB hands out values at any address (inside a block, at an
// offset of an arena). A misaligned value is copied into this thread's
// buffer, whose views stay valid until the thread's next decode.
std::string_view Aligned(std::string_view bytes) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 == 0) return bytes;
  thread_local std::vector<uint64_t> buffer;
  buffer.resize(bytes.size() / 8 + 1);
  std::memcpy(buffer.data(), bytes.data(), bytes.size());
  return {reinterpret_cast<const char*>(buffer.data()), bytes.size()};
}

}  // namespace

struct RecordEncoder::Impl {
  FlatBufferBuilder fbb{512};
};

RecordEncoder::RecordEncoder() : impl_(std::make_unique<Impl>()) { impl_->fbb.ForceDefaults(true); }
RecordEncoder::~RecordEncoder() = default;

std::string_view RecordEncoder::Encode(SeqNo seq, Timestamp ts, const Hash32& prev_hash, const Event& e,
                                       const LeadProfile* profile) {
  FlatBufferBuilder& fbb = impl_->fbb;
  fbb.Clear();
  Offset<void> body;
  fbs::Event type = static_cast<fbs::Event>(e.type);
  switch (e.type) {
    case EventType::kCampaignCreated: {
      auto name = fbb.CreateString(e.name.data(), e.name.size());
      auto settings = EncodeSettings(fbb, e.settings);
      body = fbs::CreateCampaignCreated(fbb, e.campaign, name, settings).Union();
      break;
    }
    case EventType::kCampaignUpdated: {
      auto settings = EncodeSettings(fbb, e.settings);
      body = fbs::CreateCampaignUpdated(fbb, e.campaign, settings).Union();
      break;
    }
    case EventType::kLeadAdded: {
      auto phone = fbb.CreateString(e.phone.data(), e.phone.size());
      Offset<flatbuffers::String> first, last, email;
      Offset<flatbuffers::Vector<Offset<fbs::CustomField>>> custom;
      if (profile != nullptr) {
        first = OptString(fbb, profile->first_name);
        last = OptString(fbb, profile->last_name);
        email = OptString(fbb, profile->email);
        if (!profile->custom.empty()) {
          std::vector<Offset<fbs::CustomField>> fields;
          fields.reserve(profile->custom.size());
          for (const CustomField& f : profile->custom) {
            fields.push_back(fbs::CreateCustomField(fbb, fbb.CreateString(f.key), fbb.CreateString(f.value)));
          }
          custom = fbb.CreateVector(fields);
        }
      }
      body = fbs::CreateLeadAdded(fbb, e.lead, e.campaign, phone, first, last, email, custom, ToFb(e.status)).Union();
      break;
    }
    case EventType::kLeadClaimed: {
      auto dialer = OptString(fbb, e.dialer);
      body = fbs::CreateLeadClaimed(fbb, e.lead, e.campaign, e.attempt, e.lease_until, dialer).Union();
      break;
    }
    case EventType::kOutcomeReported: {
      auto reason = OptString(fbb, e.reason);
      body = fbs::CreateOutcomeReported(fbb, e.lead, e.campaign, e.attempt, ToFb(e.status), reason).Union();
      break;
    }
    case EventType::kLeaseExpired:
      body = fbs::CreateLeaseExpired(fbb, e.lead, e.campaign, e.attempt).Union();
      break;
    case EventType::kPhoneMarkedDoNotCall: {
      auto phone = fbb.CreateString(e.phone.data(), e.phone.size());
      auto reason = OptString(fbb, e.reason);
      body = fbs::CreatePhoneMarkedDoNotCall(fbb, phone, reason).Union();
      break;
    }
    case EventType::kLeadMarkedDoNotCall: {
      auto reason = OptString(fbb, e.reason);
      body = fbs::CreateLeadMarkedDoNotCall(fbb, e.lead, e.campaign, reason).Union();
      break;
    }
    case EventType::kLeadRequeued: {
      auto reason = OptString(fbb, e.reason);
      body = fbs::CreateLeadRequeued(fbb, e.lead, e.campaign, reason).Union();
      break;
    }
  }
  auto prev = fbb.CreateVector(prev_hash.data(), prev_hash.size());
  auto root = fbs::CreateRecord(fbb, seq, ts, prev, type, body);
  fbs::FinishRecordBuffer(fbb, root);
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

namespace {

// Verifies the buffer and returns its root, or nullptr.
const fbs::Record* VerifiedRecord(std::string_view bytes, Status* status) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fbs::VerifyRecordBuffer(verifier)) {
    *status = Bad("FlatBuffers verification failed");
    return nullptr;
  }
  const fbs::Record* r = fbs::GetRecord(bytes.data());
  if (r->prev_hash() == nullptr || r->prev_hash()->size() != 32) {
    *status = Bad("prev_hash is not 32 bytes");
    return nullptr;
  }
  if (r->event() == nullptr || r->event_type() == fbs::Event::NONE ||
      static_cast<uint8_t>(r->event_type()) > static_cast<uint8_t>(fbs::Event::MAX)) {
    *status = Bad("no known event");
    return nullptr;
  }
  return r;
}

}  // namespace

Status DecodeRecord(std::string_view bytes, DecodedRecord* out) {
  bytes = Aligned(bytes);
  Status status;
  const fbs::Record* r = VerifiedRecord(bytes, &status);
  if (r == nullptr) return status;
  out->seq = r->seq();
  out->ts = r->ts_us();
  std::memcpy(out->prev_hash.data(), r->prev_hash()->data(), 32);
  Event& e = out->event;
  e = Event{};
  e.type = static_cast<EventType>(r->event_type());
  switch (r->event_type()) {
    case fbs::Event::CampaignCreated: {
      auto* b = r->event_as_CampaignCreated();
      e.campaign = b->campaign();
      e.name = View(b->name());
      e.settings = DecodeSettings(b->settings());
      break;
    }
    case fbs::Event::CampaignUpdated: {
      auto* b = r->event_as_CampaignUpdated();
      e.campaign = b->campaign();
      e.settings = DecodeSettings(b->settings());
      break;
    }
    case fbs::Event::LeadAdded: {
      auto* b = r->event_as_LeadAdded();
      e.lead = b->lead();
      e.campaign = b->campaign();
      e.phone = View(b->phone());
      if (!FromFb(b->status(), &e.status)) return Bad("unknown lead status");
      break;
    }
    case fbs::Event::LeadClaimed: {
      auto* b = r->event_as_LeadClaimed();
      e.lead = b->lead();
      e.campaign = b->campaign();
      e.attempt = b->attempt();
      e.lease_until = b->lease_until_us();
      e.dialer = View(b->dialer());
      break;
    }
    case fbs::Event::OutcomeReported: {
      auto* b = r->event_as_OutcomeReported();
      e.lead = b->lead();
      e.campaign = b->campaign();
      e.attempt = b->attempt();
      if (!FromFb(b->outcome(), &e.status)) return Bad("unknown outcome");
      e.reason = View(b->reason());
      break;
    }
    case fbs::Event::LeaseExpired: {
      auto* b = r->event_as_LeaseExpired();
      e.lead = b->lead();
      e.campaign = b->campaign();
      e.attempt = b->attempt();
      break;
    }
    case fbs::Event::PhoneMarkedDoNotCall: {
      auto* b = r->event_as_PhoneMarkedDoNotCall();
      e.phone = View(b->phone());
      e.reason = View(b->reason());
      break;
    }
    case fbs::Event::LeadMarkedDoNotCall: {
      auto* b = r->event_as_LeadMarkedDoNotCall();
      e.lead = b->lead();
      e.campaign = b->campaign();
      e.reason = View(b->reason());
      break;
    }
    case fbs::Event::LeadRequeued: {
      auto* b = r->event_as_LeadRequeued();
      e.lead = b->lead();
      e.campaign = b->campaign();
      e.reason = View(b->reason());
      break;
    }
    default:
      return Bad("no known event");
  }
  return Status::OK();
}

namespace {

void DecodeProfileFrom(const fbs::LeadAdded* b, LeadProfile* p) {
  p->phone = std::string(View(b->phone()));
  p->first_name = std::string(View(b->first_name()));
  p->last_name = std::string(View(b->last_name()));
  p->email = std::string(View(b->email()));
  p->custom.clear();
  if (b->custom() != nullptr) {
    p->custom.reserve(b->custom()->size());
    for (const fbs::CustomField* f : *b->custom()) {
      p->custom.push_back({std::string(View(f->key())), std::string(View(f->value()))});
    }
  }
}

}  // namespace

Status DecodeLoggedEvent(std::string_view bytes, LoggedEvent* out) {
  bytes = Aligned(bytes);
  DecodedRecord rec;
  if (Status s = DecodeRecord(bytes, &rec); !s.ok()) return s;
  *out = LoggedEvent{};
  out->seq = rec.seq;
  out->ts = rec.ts;
  out->type = rec.event.type;
  out->lead = rec.event.lead;
  out->campaign = rec.event.campaign;
  out->attempt = rec.event.attempt;
  out->status = rec.event.status;
  out->lease_until = rec.event.lease_until;
  out->dialer = std::string(rec.event.dialer);
  out->reason = std::string(rec.event.reason);
  out->campaign_name = std::string(rec.event.name);
  out->settings = rec.event.settings;
  out->profile.phone = std::string(rec.event.phone);
  if (rec.event.type == EventType::kLeadAdded) {
    DecodeProfileFrom(fbs::GetRecord(bytes.data())->event_as_LeadAdded(), &out->profile);
  }
  return Status::OK();
}

Status DecodeProfile(std::string_view bytes, LeadProfile* profile, Timestamp* ts) {
  // Exactly the checks of a replay: a record the log would refuse is never
  // a lead's profile.
  bytes = Aligned(bytes);
  DecodedRecord rec;
  if (Status s = DecodeRecord(bytes, &rec); !s.ok()) return s;
  if (rec.event.type != EventType::kLeadAdded) return Bad("not a lead_added record");
  const fbs::Record* r = fbs::GetRecord(bytes.data());
  DecodeProfileFrom(r->event_as_LeadAdded(), profile);
  if (ts != nullptr) *ts = r->ts_us();
  return Status::OK();
}

// ---- views ----

std::string EncodeLeadView(LeadId id, const LeadRow& row) {
  FlatBufferBuilder fbb(128);
  fbb.ForceDefaults(true);
  auto root = fbs::CreateLeadView(fbb, id, row.campaign, row.phone, ToFb(row.status), row.attempt, row.budget_start(),
                                  row.when, row.added_seq, ToFb(row.last_outcome), row.call_open());
  fbb.Finish(root);
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

Status DecodeLeadView(std::string_view bytes, LeadId* id, LeadRow* row) {
  bytes = Aligned(bytes);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<fbs::LeadView>(nullptr)) return Status::Corruption("lead view does not decode");
  auto* v = flatbuffers::GetRoot<fbs::LeadView>(bytes.data());
  *id = v->lead();
  *row = LeadRow{};
  row->campaign = v->campaign();
  // The row's narrow fields take only what the log itself can produce.
  if (v->phone() == 0 || v->phone() > LeadRow::kMaxPhone) return Status::Corruption("lead view has an impossible phone");
  row->phone = v->phone();
  LeadStatus status = LeadStatus::kPending, last_outcome = LeadStatus::kPending;
  if (!FromFb(v->status(), &status) || !FromFb(v->last_outcome(), &last_outcome)) {
    return Status::Corruption("lead view has an unknown status");
  }
  row->status = status;
  row->last_outcome = last_outcome;
  if (v->budget_start() > v->attempt() || v->attempt() - v->budget_start() > LeadRow::kMaxBudgetUsed) {
    return Status::Corruption("lead view has an impossible attempt budget");
  }
  if (v->added_seq() > LeadRow::kMaxAddedSeq) return Status::Corruption("lead view has an impossible added_seq");
  row->attempt = v->attempt();
  row->budget_used = v->attempt() - v->budget_start();
  row->when = v->when_us();
  row->added_seq = v->added_seq();
  if (v->call_open()) row->flags |= LeadRow::kCallOpen;
  return Status::OK();
}

std::string EncodeCampaignView(const CampaignState& c) {
  FlatBufferBuilder fbb(256);
  fbb.ForceDefaults(true);
  auto name = fbb.CreateString(c.info.name);
  auto settings = EncodeSettings(fbb, c.info.settings);
  auto counts = fbb.CreateVector(c.counts.by_status.data(), c.counts.by_status.size());
  auto root = fbs::CreateCampaignView(fbb, c.info.id, name, settings, c.info.created, counts, c.counts.total);
  fbb.Finish(root);
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

Status DecodeCampaignView(std::string_view bytes, Campaign* info, StatusCounts* counts) {
  bytes = Aligned(bytes);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<fbs::CampaignView>(nullptr)) return Status::Corruption("campaign view does not decode");
  auto* v = flatbuffers::GetRoot<fbs::CampaignView>(bytes.data());
  if (v->name() == nullptr || v->settings() == nullptr || v->counts() == nullptr ||
      v->counts()->size() != kNumStatuses) {
    return Status::Corruption("campaign view lacks a field");
  }
  info->id = v->campaign();
  info->name = v->name()->str();
  info->settings = DecodeSettings(v->settings());
  info->created = v->created_us();
  for (int i = 0; i < kNumStatuses; ++i) counts->by_status[i] = v->counts()->Get(i);
  counts->total = v->total();
  return Status::OK();
}

std::string EncodeDncView(std::string_view phone, const DncMark& mark, std::string_view reason) {
  FlatBufferBuilder fbb(128);
  fbb.ForceDefaults(true);
  auto p = fbb.CreateString(phone.data(), phone.size());
  auto r = fbb.CreateString(reason.data(), reason.size());
  fbb.Finish(fbs::CreateDncView(fbb, p, mark.seq, mark.ts, r));
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

Status DecodeDncView(std::string_view bytes, std::string* phone, DncMark* mark, std::string* reason) {
  bytes = Aligned(bytes);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<fbs::DncView>(nullptr)) return Status::Corruption("do-not-call view does not decode");
  auto* v = flatbuffers::GetRoot<fbs::DncView>(bytes.data());
  *phone = std::string(View(v->phone()));
  mark->seq = v->seq();
  mark->ts = v->ts_us();
  *reason = std::string(View(v->reason()));
  return Status::OK();
}

std::string EncodeCheckpoint(const CheckpointInfo& info) {
  FlatBufferBuilder fbb(128);
  fbb.ForceDefaults(true);
  auto hash = fbb.CreateVector(info.hash.data(), info.hash.size());
  fbb.Finish(fbs::CreateCheckpointView(fbb, info.seq, hash, info.ts, info.next_lead, info.next_campaign, info.leads,
                                       info.dnc_phones, info.leads_digest));
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

Status DecodeCheckpoint(std::string_view bytes, CheckpointInfo* info) {
  bytes = Aligned(bytes);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<fbs::CheckpointView>(nullptr)) return Status::Corruption("checkpoint does not decode");
  auto* v = flatbuffers::GetRoot<fbs::CheckpointView>(bytes.data());
  if (v->hash() == nullptr || v->hash()->size() != 32) return Status::Corruption("checkpoint hash is not 32 bytes");
  info->seq = v->seq();
  std::memcpy(info->hash.data(), v->hash()->data(), 32);
  info->ts = v->ts_us();
  info->next_lead = v->next_lead();
  info->next_campaign = v->next_campaign();
  info->leads = v->leads();
  info->dnc_phones = v->dnc_phones();
  info->leads_digest = v->leads_digest();
  return Status::OK();
}

}  // namespace leadlog
