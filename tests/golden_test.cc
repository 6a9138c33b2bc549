// Golden records: a committed log that every later version of leadlog must
// still read.
//
// tests/golden/log_v1.bin holds the raw value bytes of every record of the
// `log` column family of a small database written by format version 1 (a
// campaign with settings, leads with custom fields, claims, each outcome, an
// expiry, a do-not-call phone and lead marks, a requeue, a campaign update).
// Framing, repeated to the end of the file:
//     8 bytes  seq, big-endian (the record's key)
//     4 bytes  length, big-endian
//     length   the record's bytes, exactly as stored
// tests/golden/log_v1.expected.json holds each record decoded (seq, ts, type,
// lead, fields, prev_hash and the record's own hash), the digest of the head,
// and the final counts and lead states.
//
// The tests decode every record with today's codec, check the hash chain and
// the dense sequence, compare with the expected JSON, replay the records
// through Apply into a fresh State, and load them into the log of a real
// database that then opens, replays, verifies and answers queries.
//
// Regenerating (only when adding a NEW fixture, e.g. log_v2 for a new format
// version -- never to change log_v1):
//     LEADLOG_GOLDEN_OUT=/tmp/golden ./leadlog_tests --gtest_also_run_disabled_tests
//         --gtest_filter='GoldenFixture.DISABLED_Generate'
//   (one command line)
// writes log_v1.bin and log_v1.expected.json to $LEADLOG_GOLDEN_OUT (default:
// tests/golden/ in the source tree).
//
// THE RULE: never regenerate a fixture to make a failing golden test pass. A
// failure means a schema or codec change broke old data: databases in the
// field hold exactly these bytes. Fix the change (FlatBuffers' rules: add
// fields at the end, never remove, reorder or retype; see schema/leadlog.fbs),
// or bump kFormatVersion and add a new fixture next to this one.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apply.h"
#include "codec.h"
#include "hash.h"
#include "keys.h"
#include "leadlog/leadlog.h"
#include "state.h"
#include "test_util.h"

namespace leadlog {
namespace {

using json = nlohmann::ordered_json;
using testing::ScratchDir;

const std::string kGoldenDir = std::string(LEADLOG_SOURCE_DIR) + "/tests/golden";

// 2026-12-04T10:00:00Z
constexpr Timestamp T0 = 1796378400LL * kSecond;

struct RawRecord {
  SeqNo seq = 0;
  std::string bytes;
};

// ------------------------------------------------------------------ framing

void PutBE(std::string* out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBE(const std::string& in, size_t pos, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in[pos + i]);
  return v;
}

std::string Frame(const std::vector<RawRecord>& records) {
  std::string out;
  for (const RawRecord& r : records) {
    PutBE(&out, r.seq, 8);
    PutBE(&out, r.bytes.size(), 4);
    out += r.bytes;
  }
  return out;
}

// Returns false (with a message) on a truncated file.
bool Unframe(const std::string& data, std::vector<RawRecord>* records, std::string* error) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 12) {
      *error = fmt::format("truncated frame header at byte {}", pos);
      return false;
    }
    RawRecord r;
    r.seq = GetBE(data, pos, 8);
    uint64_t len = GetBE(data, pos + 8, 4);
    pos += 12;
    if (data.size() - pos < len) {
      *error = fmt::format("record {} claims {} bytes, {} remain", r.seq, len, data.size() - pos);
      return false;
    }
    r.bytes = data.substr(pos, len);
    pos += len;
    records->push_back(std::move(r));
  }
  return true;
}

// ------------------------------------------------------------------ JSON forms

json SettingsJson(const CampaignSettings& s) {
  return {{"max_attempts", s.max_attempts},       {"retry_no_answer_us", s.retry_no_answer},
          {"retry_voicemail_us", s.retry_voicemail}, {"retry_failed_us", s.retry_failed},
          {"lease_us", s.lease}};
}

json ProfileJson(const LeadProfile& p) {
  json custom = json::array();
  for (const CustomField& f : p.custom) custom.push_back(json::array({f.key, f.value}));
  return {{"phone", p.phone},
          {"first_name", p.first_name},
          {"last_name", p.last_name},
          {"email", p.email},
          {"custom", custom}};
}

// Every field of the decoded event, whatever its type: a field that a type
// does not use must stay empty in old records too.
json EventJson(const LoggedEvent& e) {
  return {{"seq", e.seq},
          {"ts", e.ts},
          {"type", std::string(EventTypeName(e.type))},
          {"lead", e.lead},
          {"campaign", e.campaign},
          {"attempt", e.attempt},
          {"status", std::string(LeadStatusName(e.status))},
          {"lease_until", e.lease_until},
          {"dialer", e.dialer},
          {"reason", e.reason},
          {"campaign_name", e.campaign_name},
          {"settings", SettingsJson(e.settings)},
          {"profile", ProfileJson(e.profile)}};
}

json CountsJson(const std::string& name, const StatusCounts& c) {
  json j = {{"campaign", name}};
  for (int s = 0; s < kNumStatuses; ++s) j[std::string(LeadStatusName(static_cast<LeadStatus>(s)))] = c.by_status[s];
  j["total"] = c.total;
  return j;
}

// A lead's state in the terms of DESIGN.md: `when` is its due time (pending,
// or a scheduled retry; 0 if none) or, while a call is open, its lease.
json LeadRowJson(LeadId id, const LeadRow& r) {
  return {{"lead", id},
          {"campaign", r.campaign},
          {"phone", PhoneToString(r.phone)},
          {"status", std::string(LeadStatusName(r.status))},
          {"attempt", r.attempt},
          {"attempts_used", r.attempts_used()},
          {"call_open", r.call_open()},
          {"last_outcome", std::string(LeadStatusName(r.last_outcome))},
          {"when", r.when}};
}

// ------------------------------------------------------------------ the golden database

// Writes the golden database's history into `store`, every call at an
// explicit time so that the bytes never depend on the clock.
void WriteGoldenHistory(Store& s) {
  auto ok = [](const Status& st, const char* what) { ASSERT_TRUE(st.ok()) << what << ": " << st.ToString(); };
  CampaignSettings spring;
  spring.max_attempts = 3;
  spring.retry_no_answer = kHour;
  spring.retry_voicemail = 4 * kHour;
  spring.retry_failed = 2 * kHour;
  spring.lease = 15 * kMinute;
  ok(s.CreateCampaign("spring-renewals", spring, T0).status(), "create spring");
  ok(s.CreateCampaign("autumn", CampaignSettings{}, T0 + kSecond).status(), "create autumn");

  std::vector<LeadInput> leads = {
      {"+16502530000", "Ada", "Lovelace", "ada@example.com", {{"account", "AC-1001"}, {"product", "solar"}}},
      {"+447911123456", "Grace", "Hopper", "", {{"appointment", "2026-12-05T09:30:00Z"}}},
      {"+4915123456789", "Jürgen", "Müller", "j.mueller@example.de", {}},
      {"+33612345678", "Zoé", "", "", {{"note", "prefers \"afternoons\", not mornings"}, {"empty", ""}}},
      {"+61412345678", "", "", "", {}},
      {"+819012345678", "Haruki", "村上", "", {{"language", "ja"}}},
  };
  Result<AddLeadsResult> added = s.AddLeads("spring-renewals", leads, {}, T0 + 2 * kSecond);
  ok(added.status(), "add spring");
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->imported, 6u);
  ok(s.AddLeads("autumn", {{"+16502530000"}, {"+5511912345678", "Bea"}}, {}, T0 + 3 * kSecond).status(),
     "add autumn");
  // A listed phone first, then a lead with it: added as do_not_call.
  ok(s.AddDoNotCall("+61293744000", "national registry", "", T0 + 4 * kSecond).status(), "dnc registry");
  AddOptions au;
  au.default_region = "AU";
  ok(s.AddLead("spring-renewals", {"02 9374 4000", "Dan"}, au, T0 + 5 * kSecond).status(), "add dnc lead");

  // Attempt 1 of leads 1..5, then each outcome and an expiry.
  Result<std::vector<ClaimedLead>> c1 = s.Claim("spring-renewals", 5, "dialer-a", T0 + kMinute);
  ok(c1.status(), "claim 1");
  ASSERT_TRUE(c1.ok());
  ASSERT_EQ(c1->size(), 5u);
  ok(s.Report(1, 1, LeadStatus::kCompleted, "sale", T0 + 2 * kMinute).status(), "report 1");
  ok(s.Report(2, 1, LeadStatus::kNoAnswer, "", T0 + 2 * kMinute).status(), "report 2");
  ok(s.Report(3, 1, LeadStatus::kVoicemail, "left message", T0 + 3 * kMinute).status(), "report 3");
  ok(s.Report(4, 1, LeadStatus::kFailed, "busy signal", T0 + 3 * kMinute).status(), "report 4");
  Result<std::vector<LeadInfo>> expired = s.Expire(T0 + kMinute + 15 * kMinute);
  ok(expired.status(), "expire");
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);  // lead 5

  // The phone of leads 1 and 7 goes on the list; lead 6 is marked alone.
  ok(s.AddDoNotCall("+16502530000", "complaint", "", T0 + 20 * kMinute).status(), "dnc complaint");
  ok(s.MarkLeadDoNotCall(6, "asked during the call", T0 + 21 * kMinute).status(), "mark 6");
  ok(s.Requeue(4, "line fixed", T0 + 22 * kMinute).status(), "requeue 4");
  CampaignSettings stricter = spring;
  stricter.max_attempts = 2;
  stricter.retry_no_answer = 30 * kMinute;
  stricter.retry_failed = kNever;
  stricter.lease = 10 * kMinute;
  ok(s.UpdateCampaign("spring-renewals", stricter, T0 + 23 * kMinute).status(), "update spring");

  // Attempt 2: lead 4 (requeued), lead 2 (no_answer retry) and lead 5 (expired).
  Result<std::vector<ClaimedLead>> c2 = s.Claim("spring-renewals", 5, "dialer-b", T0 + 2 * kHour);
  ok(c2.status(), "claim 2");
  ASSERT_TRUE(c2.ok());
  ASSERT_EQ(c2->size(), 3u);
  ok(s.Report(2, 2, LeadStatus::kNoAnswer, "", T0 + 2 * kHour + kMinute).status(), "report 2/2");
  ok(s.Report(4, 2, LeadStatus::kCompleted, "renewed", T0 + 2 * kHour + kMinute).status(), "report 4/2");
  // Lead 5's phone is listed mid-call; its outcome is still recorded.
  ok(s.AddDoNotCall("+61412345678", "", "", T0 + 2 * kHour + 2 * kMinute).status(), "dnc mid-call");
  ok(s.Report(5, 2, LeadStatus::kVoicemail, "", T0 + 2 * kHour + 3 * kMinute).status(), "report 5/2");
  Result<std::vector<ClaimedLead>> c3 = s.Claim("autumn", 2, "dialer-c", T0 + 2 * kHour + 4 * kMinute);
  ok(c3.status(), "claim autumn");
  ASSERT_TRUE(c3.ok());
  ASSERT_EQ(c3->size(), 1u);  // lead 8; lead 7 is do_not_call
  ok(s.Report(8, 1, LeadStatus::kNoAnswer, "", T0 + 2 * kHour + 5 * kMinute).status(), "report 8");
}

// Every record of the log column family, read with RocksDB directly.
std::vector<RawRecord> ReadLogColumnFamily(const std::string& path) {
  std::vector<RawRecord> out;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return out;
  for (auto* h : handles) {
    if (h->GetName() != keys::kLogCF) continue;
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      RawRecord r;
      EXPECT_TRUE(keys::DecodeSeq(it->key().ToStringView(), &r.seq));
      r.bytes = it->value().ToString();
      out.push_back(std::move(r));
    }
  }
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  return out;
}

// Opens a database with RocksDB directly and puts the records into its log.
void WriteLogColumnFamily(const std::string& path, const std::vector<RawRecord>& records) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &raw).ok());
  rocksdb::WriteBatch batch;
  for (auto* h : handles) {
    if (h->GetName() != keys::kLogCF) continue;
    for (const RawRecord& r : records) batch.Put(h, keys::Seq(r.seq).view(), r.bytes);
  }
  EXPECT_EQ(batch.Count(), records.size());
  EXPECT_TRUE(raw->Write(rocksdb::WriteOptions(), &batch).ok());
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
}

// Replays the records through Apply into a fresh State (asserting each is
// accepted) and returns the final counts and lead rows as JSON.
json ReplayedState(const std::vector<RawRecord>& records) {
  State state;
  state.track_changes = false;
  for (const RawRecord& r : records) {
    DecodedRecord rec;
    Status s = DecodeRecord(r.bytes, &rec);
    EXPECT_TRUE(s.ok()) << "record " << r.seq << ": " << s.ToString();
    if (!s.ok()) break;
    std::string_view rule;
    s = Apply(state, rec.event, rec.seq, rec.ts, &rule);
    EXPECT_TRUE(s.ok()) << "record " << r.seq << " refused by rule " << rule << ": " << s.ToString();
  }
  json counts = json::array();
  for (const CampaignState& c : state.campaigns) counts.push_back(CountsJson(c.info.name, c.counts));
  json leads = json::array();
  for (LeadId id = 1; id <= state.leads.size(); ++id) leads.push_back(LeadRowJson(id, state.leads[id - 1]));
  return {{"last_seq", state.last_seq}, {"counts", counts}, {"leads", leads}};
}

json DescribeRecords(const std::vector<RawRecord>& records) {
  json out = json::array();
  Sha256 sha;
  for (const RawRecord& r : records) {
    LoggedEvent e;
    Status s = DecodeLoggedEvent(r.bytes, &e);
    EXPECT_TRUE(s.ok()) << "record " << r.seq << ": " << s.ToString();
    DecodedRecord rec;
    EXPECT_TRUE(DecodeRecord(r.bytes, &rec).ok());
    json j = EventJson(e);
    j["time"] = FormatTime(e.ts);  // for people; not compared
    j["prev_hash"] = HexOf(rec.prev_hash);
    j["hash"] = HexOf(sha.Of(r.bytes));
    out.push_back(j);
  }
  return out;
}

// ------------------------------------------------------------------ the generator

TEST(GoldenFixture, DISABLED_Generate) {
  const char* env = std::getenv("LEADLOG_GOLDEN_OUT");
  const std::string out_dir = env != nullptr && *env != '\0' ? env : kGoldenDir;
  ScratchDir dir("golden-gen");
  const std::string db = dir.Sub("db");
  {
    Options o;
    o.clock = [] { return T0; };
    std::unique_ptr<Store> s;
    ASSERT_TRUE(Store::Open(o, db, &s).ok());
    WriteGoldenHistory(*s);
    if (HasFatalFailure()) return;
  }
  std::vector<RawRecord> records = ReadLogColumnFamily(db);
  ASSERT_FALSE(records.empty());
  Sha256 sha;
  json expected;
  expected["format"] = "leadlog golden log, format version 1";
  expected["note"] = "Written by GoldenFixture.DISABLED_Generate. Never regenerate to make a test pass.";
  expected["records"] = DescribeRecords(records);
  expected["digest"] = {{"seq", records.back().seq}, {"hash", HexOf(sha.Of(records.back().bytes))}};
  json state = ReplayedState(records);
  expected["final"] = state;
  std::filesystem::create_directories(out_dir);
  testing::WriteFile(out_dir + "/log_v1.bin", Frame(records));
  testing::WriteFile(out_dir + "/log_v1.expected.json", expected.dump(2) + "\n");
  std::printf("wrote %zu records to %s/log_v1.bin\n", records.size(), out_dir.c_str());
}

// ------------------------------------------------------------------ the tests

class GoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string data = testing::ReadFile(kGoldenDir + "/log_v1.bin");
    std::string error;
    ASSERT_TRUE(Unframe(data, &records_, &error)) << error;
    ASSERT_FALSE(records_.empty());
    expected_ = json::parse(testing::ReadFile(kGoldenDir + "/log_v1.expected.json"));
    ASSERT_EQ(expected_["records"].size(), records_.size());
  }
  std::vector<RawRecord> records_;
  json expected_;
};

TEST_F(GoldenTest, EveryRecordDecodesAsExpected) {
  json got = DescribeRecords(records_);
  ASSERT_EQ(got.size(), expected_["records"].size());
  for (size_t i = 0; i < got.size(); ++i) {
    json want = expected_["records"][i];
    want.erase("time");
    got[i].erase("time");
    EXPECT_EQ(got[i].dump(), want.dump()) << "record " << records_[i].seq;
  }
}

TEST_F(GoldenTest, SequenceIsDenseAndTheHashChainHolds) {
  Sha256 sha;
  Hash32 prev{};  // record 1 carries 32 zero bytes
  Timestamp last_ts = 0;
  for (size_t i = 0; i < records_.size(); ++i) {
    const RawRecord& r = records_[i];
    EXPECT_EQ(r.seq, i + 1) << "keys are dense from 1";
    DecodedRecord rec;
    ASSERT_TRUE(DecodeRecord(r.bytes, &rec).ok()) << "record " << r.seq;
    EXPECT_EQ(rec.seq, r.seq) << "the record names its own key";
    EXPECT_EQ(HexOf(rec.prev_hash), HexOf(prev)) << "record " << r.seq << " does not chain to the one before";
    EXPECT_GE(rec.ts, last_ts) << "record " << r.seq << ": time went backwards";
    last_ts = rec.ts;
    prev = sha.Of(r.bytes);
  }
  EXPECT_EQ(records_.back().seq, expected_["digest"]["seq"].get<SeqNo>());
  EXPECT_EQ(HexOf(prev), expected_["digest"]["hash"].get<std::string>());
}

TEST_F(GoldenTest, FixtureCoversEveryEventTypeAndOutcome) {
  std::map<std::string, int> types, outcomes;
  for (const json& r : expected_["records"]) {
    ++types[r["type"].get<std::string>()];
    if (r["type"] == "outcome_reported") ++outcomes[r["status"].get<std::string>()];
  }
  for (const char* t : {"campaign_created", "campaign_updated", "lead_added", "lead_claimed", "outcome_reported",
                        "lease_expired", "phone_marked_do_not_call", "lead_marked_do_not_call", "lead_requeued"}) {
    EXPECT_GT(types[t], 0) << t;
  }
  for (const char* o : {"completed", "no_answer", "voicemail", "failed"}) EXPECT_GT(outcomes[o], 0) << o;
}

TEST_F(GoldenTest, ReplayThroughApplyReachesTheExpectedState) {
  json state = ReplayedState(records_);
  EXPECT_EQ(state["last_seq"], expected_["final"]["last_seq"]);
  EXPECT_EQ(state["counts"].dump(2), expected_["final"]["counts"].dump(2));
  EXPECT_EQ(state["leads"].dump(2), expected_["final"]["leads"].dump(2));
}

TEST_F(GoldenTest, ARealDatabaseOpensTheGoldenLog) {
  ScratchDir dir("golden");
  const std::string db = dir.Sub("db");
  {
    // An empty database with every column family and today's format version.
    std::unique_ptr<Store> s;
    ASSERT_TRUE(Store::Open(Options{}, db, &s).ok());
  }
  WriteLogColumnFamily(db, records_);
  Options o;
  o.clock = [] { return T0 + 24 * kHour; };
  std::unique_ptr<Store> s;
  Status st = Store::Open(o, db, &s);
  ASSERT_TRUE(st.ok()) << st.ToString();

  // The digest and the counts are the expected ones.
  EXPECT_EQ(s->Head().seq, expected_["digest"]["seq"].get<SeqNo>());
  EXPECT_EQ(s->Head().Hex(), expected_["digest"]["hash"].get<std::string>());
  json counts = json::array();
  for (const CampaignCounts& c : s->AllCounts()) counts.push_back(CountsJson(c.campaign.name, c.counts));
  EXPECT_EQ(counts.dump(2), expected_["final"]["counts"].dump(2));
  // Every lead as the fixture says, through the public API.
  for (const json& want : expected_["final"]["leads"]) {
    Result<LeadInfo> info = s->GetLead(want["lead"].get<LeadId>());
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(std::string(LeadStatusName(info->status)), want["status"].get<std::string>()) << want.dump();
    EXPECT_EQ(info->attempts, want["attempt"].get<uint32_t>()) << want.dump();
    EXPECT_EQ(info->profile.phone, want["phone"].get<std::string>()) << want.dump();
  }
  // A profile with custom fields, read back from its lead_added record.
  Result<LeadInfo> ada = s->GetLead(1);
  ASSERT_TRUE(ada.ok());
  EXPECT_EQ(ada->profile.first_name, "Ada");
  EXPECT_EQ(ada->profile.email, "ada@example.com");
  EXPECT_EQ(ada->profile.custom, (std::vector<CustomField>{{"account", "AC-1001"}, {"product", "solar"}}));
  Result<LeadInfo> zoe = s->GetLead(4);
  ASSERT_TRUE(zoe.ok());
  EXPECT_EQ(zoe->profile.first_name, "Zoé");
  EXPECT_EQ(zoe->profile.custom,
            (std::vector<CustomField>{{"note", "prefers \"afternoons\", not mornings"}, {"empty", ""}}));
  // The do-not-call list and a lead's history.
  EXPECT_TRUE(*s->IsDoNotCall("+16502530000"));
  EXPECT_TRUE(*s->IsDoNotCall("+61293744000"));
  Result<DncEntry> entry = s->GetDoNotCall("+16502530000");
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->reason, "complaint");
  std::vector<LoggedEvent> history;
  ASSERT_TRUE(s->History(5, &history).ok());
  std::vector<std::string> types;
  for (const LoggedEvent& e : history) types.push_back(std::string(EventTypeName(e.type)));
  EXPECT_EQ(types, (std::vector<std::string>{"lead_added", "lead_claimed", "lease_expired", "lead_claimed",
                                             "lead_marked_do_not_call", "outcome_reported"}));
  Result<Campaign> spring = s->GetCampaign("spring-renewals");
  ASSERT_TRUE(spring.ok());
  EXPECT_EQ(spring->settings.max_attempts, 2u);
  EXPECT_EQ(spring->settings.retry_failed, kNever);

  // The audit accepts the old log, with the digest from the fixture.
  VerifyOptions vo;
  vo.check_digest = true;
  vo.digest.seq = expected_["digest"]["seq"].get<SeqNo>();
  ASSERT_TRUE(ParseHash(expected_["digest"]["hash"].get<std::string>(), &vo.digest.hash));
  AuditReport report;
  ASSERT_TRUE(s->Verify(vo, &report).ok());
  for (const AuditProblem& p : report.problems) ADD_FAILURE() << p.rule << " seq " << p.seq << ": " << p.detail;
  EXPECT_EQ(report.events, records_.size());

  // And today's engine appends to it: the chain continues from the old head.
  ASSERT_TRUE(s->CreateCampaign("winter", {}).ok());
  EXPECT_EQ(s->LastSeq(), records_.size() + 1);
  std::vector<LoggedEvent> tail;
  LogFilter from;
  from.from = records_.size() + 1;
  ASSERT_TRUE(s->ScanLog(from, [&](const LoggedEvent& e) {
                 tail.push_back(e);
                 return true;
               }).ok());
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].campaign_name, "winter");
  s.reset();
  ASSERT_TRUE(Store::Open(o, db, &s).ok());
  report = {};
  ASSERT_TRUE(s->Verify(VerifyOptions{}, &report).ok());
  for (const AuditProblem& p : report.problems) ADD_FAILURE() << p.rule << " seq " << p.seq << ": " << p.detail;
}

TEST_F(GoldenTest, DamageToTheFixtureIsDetected) {
  // The chain check above can fail: one flipped byte in record 3 breaks the
  // link from record 4 (and most likely record 3's own decoding).
  ASSERT_GT(records_.size(), 4u);
  std::string damaged = records_[2].bytes;
  damaged[damaged.size() / 2] ^= 0x20;
  DecodedRecord next;
  ASSERT_TRUE(DecodeRecord(records_[3].bytes, &next).ok());
  EXPECT_NE(HexOf(next.prev_hash), HexOf(Sha256().Of(damaged)));
  EXPECT_EQ(HexOf(next.prev_hash), HexOf(Sha256().Of(records_[2].bytes)));
}

}  // namespace
}  // namespace leadlog
