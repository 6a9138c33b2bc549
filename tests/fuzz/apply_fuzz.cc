// libFuzzer target for the apply function: the input is a sequence of
// events, applied one by one to a State with leadlog::Apply (the function
// that live writes, recovery, replay, rebuild and audit all share), with the
// state's invariants checked after every event. A violation aborts, which the
// fuzzer reports as a crash.
//
// Input format, a sequence of operations:
//  - an operation byte >= 0xF0: an embedded log record. The next two bytes
//    are its length (little-endian, cut to what is left), then the record's
//    bytes. It goes through DecodeRecord (the FlatBuffers verifier); when it
//    decodes, its event is applied at the record's time.
//  - otherwise 8 bytes [type, lead, campaign, attempt, status, pick, dt_lo,
//    dt_hi] that build an Event: type 1..9 (10: unknown), a lead id among the
//    existing ones (0 and the next id too), a campaign (0: the lead's own),
//    an attempt near the lead's current one, a status 0..7 (7 is not one),
//    `pick` selects a phone (6 valid, 2 junk), campaign name and settings
//    preset, and the time moves by (dt - 1000) * 5 s (before the previous
//    record now and then).
//
// Invariants, after every event, accepted or refused:
//  - a refused event changes nothing (leads, counts, do-not-call list,
//    settings, the last seq and time) and names the rule it broke;
//  - per campaign, the counts sum to the total and equal a recount of the
//    lead rows;
//  - do_not_call is absorbing: a lead once do_not_call stays do_not_call;
//  - no claim is accepted for a do_not_call lead or a lead whose phone is on
//    the do-not-call list;
//  - a lead's attempt number never decreases; a calling lead has an open call;
//  - a lead added while its phone is listed is added as do_not_call;
//  - every lead is found by the phone index under its phone and campaign.
//
// Seeds: tests/fuzz/corpus/apply/ (scenarios written by the generator below:
//   g++ -std=c++20 -DLEADLOG_WRITE_SEEDS -Iengine/include -Iengine/src
//       tests/fuzz/apply_fuzz.cc -Lbuild/engine -lleadlog -Wl,-rpath,build/engine
//       -o /tmp/apply_seeds && /tmp/apply_seeds tests/fuzz/corpus/apply)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "apply.h"
#include "codec.h"
#include "state.h"

namespace {

using namespace leadlog;  // NOLINT

constexpr Timestamp kStart = 1796378400LL * kSecond;  // 2026-12-04T10:00:00Z
constexpr int kMaxEvents = 512;

const char* const kPhones[] = {"+14155550100", "+14155550101", "+14155550102", "+14155550103",
                               "+442079460000", "+14155550105", "+0123", "not a phone"};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

CampaignSettings Preset(int i) {
  CampaignSettings s;
  switch (i % 8) {
    case 0:
      break;
    case 1:
      s.max_attempts = 4;
      s.retry_no_answer = 10 * kMinute;
      s.retry_voicemail = 20 * kMinute;
      s.retry_failed = 30 * kMinute;
      s.lease = 5 * kMinute;
      break;
    case 2:
      s.max_attempts = 1;
      break;
    case 3:
      s.retry_no_answer = s.retry_voicemail = s.retry_failed = kNever;
      break;
    case 4:
      s.max_attempts = 0;  // invalid
      break;
    case 5:
      s.lease = 0;  // invalid
      break;
    case 6:
      s.retry_no_answer = s.retry_voicemail = s.retry_failed = 0;
      break;
    case 7:
      s.max_attempts = 1000;
      s.lease = 7 * 24 * kHour;
      break;
  }
  return s;
}

// What a refused event must leave exactly as it was.
struct Fingerprint {
  size_t leads = 0;
  size_t campaigns = 0;
  size_t dnc = 0;
  SeqNo last_seq = 0;
  Timestamp last_ts = 0;
  std::vector<StatusCounts> counts;
  std::vector<CampaignSettings> settings;
  LeadRow row;  // of the event's lead, if it exists
  bool has_row = false;

  static Fingerprint Of(const State& st, LeadId lead) {
    Fingerprint f;
    f.leads = st.leads.size();
    f.campaigns = st.campaigns.size();
    f.dnc = st.dnc.size();
    f.last_seq = st.last_seq;
    f.last_ts = st.last_ts;
    for (const CampaignState& c : st.campaigns) {
      f.counts.push_back(c.counts);
      f.settings.push_back(c.info.settings);
    }
    if (const LeadRow* r = st.lead(lead)) {
      f.row = *r;
      f.has_row = true;
    }
    return f;
  }
  bool Same(const Fingerprint& o) const {
    return leads == o.leads && campaigns == o.campaigns && dnc == o.dnc && last_seq == o.last_seq &&
           last_ts == o.last_ts && counts == o.counts && settings == o.settings && has_row == o.has_row &&
           (!has_row || (row.SameState(o.row) && row.phone == o.row.phone));
  }
};

struct Shadow {
  std::set<LeadId> ever_do_not_call;
  std::vector<uint32_t> attempt;  // by lead id - 1
};

void CheckInvariants(const State& st, Shadow& shadow) {
  std::vector<StatusCounts> recount(st.campaigns.size());
  shadow.attempt.resize(st.leads.size(), 0);
  for (LeadId id = 1; id <= st.leads.size(); ++id) {
    const LeadRow& r = st.leads[id - 1];
    Check(r.campaign >= 1 && r.campaign <= st.campaigns.size(), "a lead's campaign exists");
    Check(static_cast<int>(r.status) < kNumStatuses, "a lead's status is a status");
    ++recount[r.campaign - 1].by_status[static_cast<int>(r.status)];
    ++recount[r.campaign - 1].total;
    if (shadow.ever_do_not_call.count(id)) Check(r.status == LeadStatus::kDoNotCall, "do_not_call is absorbing");
    if (r.status == LeadStatus::kDoNotCall) shadow.ever_do_not_call.insert(id);
    Check(r.attempt >= shadow.attempt[id - 1], "attempt numbers never decrease");
    shadow.attempt[id - 1] = r.attempt;
    Check(r.attempts_used() <= r.attempt, "a budget starts at or before the latest attempt");
    Check(r.attempts_used() <= kMaxAttempts, "a budget holds at most kMaxAttempts attempts");
    if (r.status == LeadStatus::kCalling) Check(r.call_open(), "a calling lead has an open call");
    if (r.call_open()) {
      Check(r.status == LeadStatus::kCalling || r.status == LeadStatus::kDoNotCall,
            "an open call belongs to a calling (or since do_not_call) lead");
    }
    Check(st.phones.Find(r.phone, r.campaign, st.leads) == id, "the phone index finds every lead");
  }
  for (size_t i = 0; i < st.campaigns.size(); ++i) {
    const StatusCounts& c = st.campaigns[i].counts;
    uint64_t sum = 0;
    for (uint64_t n : c.by_status) sum += n;
    Check(sum == c.total, "counts sum to the total");
    Check(c == recount[i], "counts equal a recount of the lead rows");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  State st;
  st.track_changes = false;
  Shadow shadow;
  size_t pos = 0;
  std::string record_bytes;  // keeps an embedded record alive while its event is applied
  for (int n = 0; n < kMaxEvents && pos < size; ++n) {
    Event e;
    Timestamp ts = 0;
    std::string name;
    if (data[pos] >= 0xF0) {
      if (pos + 3 > size) break;
      size_t len = data[pos + 1] | static_cast<size_t>(data[pos + 2]) << 8;
      pos += 3;
      len = std::min(len, size - pos);
      record_bytes.assign(reinterpret_cast<const char*>(data + pos), len);
      pos += len;
      DecodedRecord rec;
      if (!DecodeRecord(record_bytes, &rec).ok()) continue;
      e = rec.event;
      ts = rec.ts;
    } else {
      if (pos + 8 > size) break;
      const uint8_t* b = data + pos;
      pos += 8;
      e.type = static_cast<EventType>(1 + b[0] % 10);
      e.lead = b[1] % (st.leads.size() + 2);
      const LeadRow* row = st.lead(e.lead);
      e.campaign = b[2] == 0 ? (row != nullptr ? row->campaign : 1) : static_cast<CampaignId>(b[2] % (st.campaigns.size() + 2));
      uint32_t base = row != nullptr ? row->attempt : 0;
      e.attempt = static_cast<uint32_t>(std::max<int64_t>(0, static_cast<int64_t>(base) + b[3] % 4 - 1));
      e.status = static_cast<LeadStatus>(b[4] % 8);
      e.phone = kPhones[b[5] % 8];
      name = "c";
      name += static_cast<char>('0' + b[5] % 4);
      e.name = name;
      e.settings = Preset(b[5] >> 3);
      e.dialer = "dialer";
      e.reason = "fuzz";
      int64_t dt = (static_cast<int64_t>(b[6] | b[7] << 8) - 1000) * 5 * kSecond;
      ts = (st.last_seq == 0 ? kStart : st.last_ts) + dt;
      Duration lease = 15 * kMinute;
      if (const CampaignState* c = st.campaign(e.campaign)) lease = c->info.settings.lease;
      e.lease_until = ts + (b[4] % 5 == 0 ? -lease : lease);
    }

    const LeadRow* before_row = st.lead(e.lead);
    bool was_do_not_call = before_row != nullptr && before_row->status == LeadStatus::kDoNotCall;
    bool phone_listed = before_row != nullptr && st.dnc.count(before_row->phone) > 0;
    uint64_t added_phone = 0;
    bool added_phone_listed = PhoneToInt(e.phone, &added_phone) && st.dnc.count(added_phone) > 0;
    Fingerprint before = Fingerprint::Of(st, e.lead);
    SeqNo seq = st.last_seq + 1;
    std::string_view rule;
    Status s = Apply(st, e, seq, ts, &rule);
    if (!s.ok()) {
      Check(!rule.empty(), "a refusal names its rule");
      Check(!s.message().empty(), "a refusal says why");
      Check(Fingerprint::Of(st, e.lead).Same(before), "a refused event changes nothing");
    } else {
      Check(st.last_seq == seq && st.last_ts == ts, "an accepted event advances the log");
      Check(ts >= before.last_ts, "record times never decrease");
      if (e.type == EventType::kLeadClaimed) {
        Check(!was_do_not_call, "a do_not_call lead was claimed");
        Check(!phone_listed, "a lead whose phone is on the do-not-call list was claimed");
        Check(st.lead(e.lead)->status == LeadStatus::kCalling, "a claimed lead is calling");
      }
      if (e.type == EventType::kLeadAdded) {
        Check(st.leads.size() == before.leads + 1, "lead_added adds one lead");
        Check((st.lead(e.lead)->status == LeadStatus::kDoNotCall) == added_phone_listed,
              "a lead is added as do_not_call exactly when its phone is listed");
      }
    }
    CheckInvariants(st, shadow);
  }
  return 0;
}

#ifdef LEADLOG_WRITE_SEEDS
// Writes scenario seeds in the format above. Not part of the fuzz target.
#include <fstream>

namespace {

struct Scenario {
  std::string bytes;
  // type, lead (0 = the next one), campaign (0 = the lead's), attempt delta
  // (+1 = the lead's current + 0), status, pick, dt seconds.
  void Op(EventType type, uint8_t lead, uint8_t campaign, uint8_t attempt, LeadStatus status, uint8_t pick,
          int seconds) {
    int dt = seconds / 5 + 1000;
    bytes += static_cast<char>(static_cast<uint8_t>(type) - 1);
    bytes += static_cast<char>(lead);
    bytes += static_cast<char>(campaign);
    bytes += static_cast<char>(attempt);
    bytes += static_cast<char>(status);
    bytes += static_cast<char>(pick);
    bytes += static_cast<char>(dt & 0xff);
    bytes += static_cast<char>(dt >> 8);
  }
  void Record(std::string_view record) {
    bytes += static_cast<char>(0xF0);
    bytes += static_cast<char>(record.size() & 0xff);
    bytes += static_cast<char>(record.size() >> 8);
    bytes += record;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  auto write = [&](const std::string& name, const Scenario& s) {
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out << s.bytes;
  };
  using T = EventType;
  using S = LeadStatus;
  // Leads are picked as `lead % (leads + 2)`: with k leads, k + 1 is the next one.
  {
    Scenario s;  // a campaign, three leads, a claim, an outcome, a retry, an expiry
    s.Op(T::kCampaignCreated, 0, 1, 0, S::kPending, 0 << 3 | 0, 1);
    s.Op(T::kLeadAdded, 1, 1, 0, S::kPending, 0, 1);
    s.Op(T::kLeadAdded, 2, 1, 0, S::kPending, 1, 1);
    s.Op(T::kLeadAdded, 3, 1, 0, S::kPending, 2, 1);
    s.Op(T::kLeadClaimed, 1, 0, 2, S::kCalling, 0, 60);
    s.Op(T::kOutcomeReported, 1, 0, 1, S::kNoAnswer, 0, 120);
    s.Op(T::kLeadClaimed, 1, 0, 2, S::kCalling, 0, 3700);
    s.Op(T::kLeaseExpired, 1, 0, 1, S::kPending, 0, 1000);
    s.Op(T::kLeadClaimed, 2, 0, 2, S::kCalling, 0, 10);
    s.Op(T::kOutcomeReported, 2, 0, 1, S::kCompleted, 0, 10);
    s.Op(T::kLeadRequeued, 2, 0, 1, S::kPending, 0, 10);
    write("01_claim_report_retry_expire", s);
  }
  {
    Scenario s;  // do-not-call: a phone listed with leads in two campaigns, one calling
    s.Op(T::kCampaignCreated, 0, 1, 0, S::kPending, 0 << 3 | 0, 1);
    s.Op(T::kCampaignCreated, 0, 2, 0, S::kPending, 1 << 3 | 1, 1);
    s.Op(T::kLeadAdded, 1, 1, 0, S::kPending, 0, 1);
    s.Op(T::kLeadAdded, 2, 2, 0, S::kPending, 0, 1);
    s.Op(T::kLeadClaimed, 2, 0, 2, S::kCalling, 0, 30);
    s.Op(T::kPhoneMarkedDoNotCall, 0, 0, 0, S::kPending, 0, 30);
    s.Op(T::kLeadMarkedDoNotCall, 1, 0, 0, S::kPending, 0, 0);
    s.Op(T::kLeadMarkedDoNotCall, 2, 0, 0, S::kPending, 0, 0);
    s.Op(T::kOutcomeReported, 2, 0, 1, S::kCompleted, 0, 60);
    s.Op(T::kLeadClaimed, 1, 0, 2, S::kCalling, 0, 60);
    s.Op(T::kLeadRequeued, 2, 0, 1, S::kPending, 0, 60);
    s.Op(T::kLeadAdded, 3, 1, 0, S::kDoNotCall, 0, 1);
    write("02_do_not_call", s);
  }
  {
    Scenario s;  // settings changes, budgets, invalid settings, a duplicate name
    s.Op(T::kCampaignCreated, 0, 1, 0, S::kPending, 2 << 3 | 0, 1);
    s.Op(T::kLeadAdded, 1, 1, 0, S::kPending, 3, 1);
    s.Op(T::kLeadClaimed, 1, 0, 2, S::kCalling, 0, 1);
    s.Op(T::kOutcomeReported, 1, 0, 1, S::kVoicemail, 0, 1);
    s.Op(T::kCampaignUpdated, 0, 1, 0, S::kPending, 1 << 3, 1);
    s.Op(T::kLeadClaimed, 1, 0, 2, S::kCalling, 0, 30000);
    s.Op(T::kCampaignUpdated, 0, 1, 0, S::kPending, 4 << 3, 1);
    s.Op(T::kCampaignCreated, 0, 2, 0, S::kPending, 0, 1);
    s.Op(T::kOutcomeReported, 1, 0, 1, S::kFailed, 0, -100);
    write("03_settings_and_budgets", s);
  }
  {
    Scenario s;  // embedded FlatBuffers records
    RecordEncoder enc;
    Hash32 prev{};
    Event e;
    e.type = EventType::kCampaignCreated;
    e.campaign = 1;
    e.name = "spring";
    s.Record(enc.Encode(1, kStart, prev, e, nullptr));
    e = Event{};
    e.type = EventType::kLeadAdded;
    e.lead = 1;
    e.campaign = 1;
    e.phone = "+14155550100";
    LeadProfile p{"+14155550100", "Ann", "Lee", "", {}};
    s.Record(enc.Encode(2, kStart + kSecond, prev, e, &p));
    e = Event{};
    e.type = EventType::kLeadClaimed;
    e.lead = 1;
    e.campaign = 1;
    e.attempt = 1;
    e.lease_until = kStart + kHour;
    e.dialer = "d";
    s.Record(enc.Encode(3, kStart + 2 * kSecond, prev, e, nullptr));
    s.Op(T::kOutcomeReported, 1, 0, 1, S::kCompleted, 0, 10);
    write("04_embedded_records", s);
  }
  return 0;
}
#endif
