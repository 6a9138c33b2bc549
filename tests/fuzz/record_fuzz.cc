// libFuzzer target for the record decoder and verifier, and the view decoders.
//
// Every input is handed, as it is, to each decoder of engine/src/codec.h
// (a log record, a record's full decode and its profile, a lead view, a
// campaign view, a do-not-call view, the checkpoint). None may crash, hang or
// read outside the input (the FlatBuffers verifier runs first). Checked on
// every input (a violation aborts, which the fuzzer reports as a crash):
//  - a refusal is Status::Corruption with a message;
//  - DecodeRecord and DecodeLoggedEvent agree on what decodes, DecodeProfile
//    accepts exactly the lead_added records among them;
//  - the string views of a decoded Event point into the input;
//  - what decodes re-encodes (RecordEncoder, Encode*View) to bytes that
//    decode to the same values: no field is lost or invented by a round trip.
//
// Seeds: tests/fuzz/corpus/record/ (valid records of every event type and
// every view, written by the RecordEncoder). To write them again:
//   g++ -std=c++20 -DLEADLOG_WRITE_SEEDS -Iengine/include -Iengine/src
//       tests/fuzz/record_fuzz.cc -Lbuild/engine -lleadlog -Wl,-rpath,build/engine
//       -o /tmp/record_seeds && /tmp/record_seeds tests/fuzz/corpus/record
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec.h"
#include "hash.h"

namespace {

using namespace leadlog;  // NOLINT

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void CheckRefusal(const Status& s, const char* what) {
  Check(s.IsCorruption(), what);
  Check(!s.message().empty(), "a refusal has a message");
}

bool Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  auto p = reinterpret_cast<uintptr_t>(part.data());
  auto w = reinterpret_cast<uintptr_t>(whole.data());
  return p >= w && p + part.size() <= w + whole.size();
}

bool SameEvent(const LoggedEvent& a, const LoggedEvent& b) {
  return a.seq == b.seq && a.ts == b.ts && a.type == b.type && a.lead == b.lead && a.campaign == b.campaign &&
         a.attempt == b.attempt && a.status == b.status && a.lease_until == b.lease_until && a.dialer == b.dialer &&
         a.reason == b.reason && a.campaign_name == b.campaign_name && a.settings == b.settings &&
         a.profile == b.profile;
}

void FuzzRecord(std::string_view bytes) {
  DecodedRecord rec;
  Status s = DecodeRecord(bytes, &rec);
  LoggedEvent ev;
  Status full = DecodeLoggedEvent(bytes, &ev);
  LeadProfile profile;
  Timestamp added = 0;
  Status prof = DecodeProfile(bytes, &profile, &added);
  Check(s.ok() == full.ok(), "DecodeRecord and DecodeLoggedEvent agree");
  if (!s.ok()) {
    CheckRefusal(s, "an undecodable record is Corruption");
    CheckRefusal(full, "an undecodable record is Corruption (full decode)");
    Check(!prof.ok(), "no profile from an undecodable record");
    return;
  }
  Check(prof.ok() == (rec.event.type == EventType::kLeadAdded), "a profile exactly from lead_added records");
  if (prof.ok()) {
    Check(profile == ev.profile, "DecodeProfile agrees with DecodeLoggedEvent");
    Check(added == rec.ts, "the profile's time is the record's");
  }
  const Event& e = rec.event;
  Check(Inside(e.phone, bytes) && Inside(e.name, bytes) && Inside(e.dialer, bytes) && Inside(e.reason, bytes),
        "the decoded event's strings point into the record");
  Check(ev.seq == rec.seq && ev.ts == rec.ts && ev.type == e.type && ev.lead == e.lead && ev.campaign == e.campaign,
        "the full decode agrees with the event");

  // The round trip through the encoder.
  RecordEncoder encoder;
  std::string again(encoder.Encode(rec.seq, rec.ts, rec.prev_hash, e,
                                   e.type == EventType::kLeadAdded ? &ev.profile : nullptr));
  DecodedRecord rec2;
  Check(DecodeRecord(again, &rec2).ok(), "a re-encoded record decodes");
  Check(rec2.prev_hash == rec.prev_hash, "prev_hash survives the round trip");
  LoggedEvent ev2;
  Check(DecodeLoggedEvent(again, &ev2).ok(), "a re-encoded record decodes fully");
  Check(SameEvent(ev, ev2), "a record survives the round trip");
  // Encoding is a function of the values: the same bytes every time.
  std::string third(encoder.Encode(rec2.seq, rec2.ts, rec2.prev_hash, rec2.event,
                                   e.type == EventType::kLeadAdded ? &ev2.profile : nullptr));
  Check(third == again, "encoding is deterministic");
}

void FuzzViews(std::string_view bytes) {
  {
    LeadId id = 0;
    LeadRow row;
    Status s = DecodeLeadView(bytes, &id, &row);
    if (!s.ok()) {
      CheckRefusal(s, "a bad lead view is Corruption");
    } else {
      LeadId id2 = 0;
      LeadRow row2;
      Check(DecodeLeadView(EncodeLeadView(id, row), &id2, &row2).ok(), "a re-encoded lead view decodes");
      Check(id2 == id && row2.SameState(row) && row2.phone == row.phone, "a lead view survives the round trip");
    }
  }
  {
    CampaignState c;
    Status s = DecodeCampaignView(bytes, &c.info, &c.counts);
    if (!s.ok()) {
      CheckRefusal(s, "a bad campaign view is Corruption");
    } else {
      CampaignState c2;
      Check(DecodeCampaignView(EncodeCampaignView(c), &c2.info, &c2.counts).ok(), "a re-encoded campaign view decodes");
      Check(c2.info.id == c.info.id && c2.info.name == c.info.name && c2.info.settings == c.info.settings &&
                c2.info.created == c.info.created && c2.counts == c.counts,
            "a campaign view survives the round trip");
    }
  }
  {
    std::string phone, reason;
    DncMark mark;
    Status s = DecodeDncView(bytes, &phone, &mark, &reason);
    if (!s.ok()) {
      CheckRefusal(s, "a bad do-not-call view is Corruption");
    } else {
      std::string phone2, reason2;
      DncMark mark2;
      Check(DecodeDncView(EncodeDncView(phone, mark, reason), &phone2, &mark2, &reason2).ok(),
            "a re-encoded do-not-call view decodes");
      Check(phone2 == phone && reason2 == reason && mark2.seq == mark.seq && mark2.ts == mark.ts,
            "a do-not-call view survives the round trip");
    }
  }
  {
    CheckpointInfo cp;
    Status s = DecodeCheckpoint(bytes, &cp);
    if (!s.ok()) {
      CheckRefusal(s, "a bad checkpoint is Corruption");
    } else {
      CheckpointInfo cp2;
      Check(DecodeCheckpoint(EncodeCheckpoint(cp), &cp2).ok(), "a re-encoded checkpoint decodes");
      Check(cp2.seq == cp.seq && cp2.hash == cp.hash && cp2.ts == cp.ts && cp2.next_lead == cp.next_lead &&
                cp2.next_campaign == cp.next_campaign && cp2.leads == cp.leads && cp2.dnc_phones == cp.dnc_phones,
            "a checkpoint survives the round trip");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  FuzzRecord(bytes);
  FuzzViews(bytes);
  return 0;
}

#ifdef LEADLOG_WRITE_SEEDS
// Writes the seed corpus: one valid record of every event type (and a few
// variants), and one of every view. Not part of the fuzz target.
#include <fstream>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  auto write = [&](const std::string& name, std::string_view bytes) {
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  RecordEncoder enc;
  Hash32 prev{};
  Sha256 sha;
  const Timestamp t = 1796378400LL * kSecond;
  auto record = [&](const std::string& name, SeqNo seq, const Event& e, const LeadProfile* p = nullptr) {
    std::string bytes(enc.Encode(seq, t + static_cast<Timestamp>(seq) * kSecond, prev, e, p));
    prev = sha.Of(bytes);
    write(name, bytes);
  };
  Event e;
  e.type = EventType::kCampaignCreated;
  e.campaign = 1;
  e.name = "spring";
  record("01_campaign_created", 1, e);
  e = Event{};
  e.type = EventType::kCampaignUpdated;
  e.campaign = 1;
  e.settings.max_attempts = 5;
  e.settings.retry_failed = 2 * kHour;
  record("02_campaign_updated", 2, e);
  e = Event{};
  e.type = EventType::kLeadAdded;
  e.lead = 1;
  e.campaign = 1;
  e.phone = "+14155550100";
  LeadProfile p{"+14155550100", "José", "Müller", "jose@example.com", {{"account", "A-1"}, {"product", "solar"}}};
  record("03_lead_added", 3, e, &p);
  e.lead = 2;
  e.phone = "+14155550101";
  e.status = LeadStatus::kDoNotCall;
  record("04_lead_added_do_not_call_bare", 4, e);
  e = Event{};
  e.type = EventType::kLeadClaimed;
  e.lead = 1;
  e.campaign = 1;
  e.attempt = 1;
  e.lease_until = t + 900 * kSecond;
  e.dialer = "dialer-7";
  record("05_lead_claimed", 5, e);
  e = Event{};
  e.type = EventType::kOutcomeReported;
  e.lead = 1;
  e.campaign = 1;
  e.attempt = 1;
  e.status = LeadStatus::kNoAnswer;
  e.reason = "rang out";
  record("06_outcome_reported", 6, e);
  e = Event{};
  e.type = EventType::kLeaseExpired;
  e.lead = 1;
  e.campaign = 1;
  e.attempt = 2;
  record("07_lease_expired", 7, e);
  e = Event{};
  e.type = EventType::kPhoneMarkedDoNotCall;
  e.phone = "+14155550100";
  e.reason = "asked not to be called";
  record("08_phone_marked_do_not_call", 8, e);
  e = Event{};
  e.type = EventType::kLeadMarkedDoNotCall;
  e.lead = 1;
  e.campaign = 1;
  e.reason = "operator";
  record("09_lead_marked_do_not_call", 9, e);
  e = Event{};
  e.type = EventType::kLeadRequeued;
  e.lead = 1;
  e.campaign = 1;
  e.reason = "new budget";
  record("10_lead_requeued", 10, e);

  LeadRow row;
  row.phone = 14155550100ULL;
  row.when = t;
  row.added_seq = 3;
  row.campaign = 1;
  row.attempt = 2;
  row.budget_used = 1;  // budget began at attempt 1
  row.status = LeadStatus::kCalling;
  row.last_outcome = LeadStatus::kNoAnswer;
  row.flags = LeadRow::kCallOpen;
  write("20_lead_view", EncodeLeadView(1, row));
  CampaignState c;
  c.info = Campaign{1, "spring", CampaignSettings{}, t};
  c.counts.by_status = {3, 1, 4, 1, 5, 9, 2};
  c.counts.total = 25;
  write("21_campaign_view", EncodeCampaignView(c));
  write("22_dnc_view", EncodeDncView("+14155550100", DncMark{8, t}, "asked"));
  CheckpointInfo cp;
  cp.seq = 10;
  cp.hash = prev;
  cp.ts = t;
  cp.next_lead = 3;
  cp.next_campaign = 2;
  cp.leads = 2;
  cp.dnc_phones = 1;
  write("23_checkpoint", EncodeCheckpoint(cp));
  return 0;
}
#endif
