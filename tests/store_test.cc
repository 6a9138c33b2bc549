// The Store as a database: open/close/reopen, what it refuses to open,
// read-only readers, the writer lock, checkpoints with tail replay, replay to
// a past point, verify and rebuild, file permissions, bad arguments, and the
// atomicity of AddLeads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keys.h"
#include "leadlog/leadlog.h"
#include "test_util.h"

namespace leadlog {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ManualClock;
using testing::ScratchDir;

constexpr Timestamp T0 = ManualClock::kStart;

std::string Phone(int i) { return fmt::format("+1415{:07d}", 2'000'000 + i); }

std::string Str(const StatusCounts& c) {
  return fmt::format("[{}] total={}", fmt::join(c.by_status, ","), c.total);
}

std::string Str(const CampaignSettings& s) {
  return fmt::format("max={} na={} vm={} failed={} lease={}", s.max_attempts, s.retry_no_answer, s.retry_voicemail,
                     s.retry_failed, s.lease);
}

std::string Str(const LeadProfile& p) {
  std::string custom;
  for (const CustomField& f : p.custom) custom += f.key + "=" + f.value + ";";
  return fmt::format("{} '{}' '{}' <{}> {{{}}}", p.phone, p.first_name, p.last_name, p.email, custom);
}

std::string Str(const LeadInfo& i) {
  return fmt::format("lead {} campaign {}/{} {} attempts={} used={} added={} due={} lease={} {}", i.id, i.campaign,
                     i.campaign_name, LeadStatusName(i.status), i.attempts, i.attempts_used, i.added, i.due,
                     i.lease_until, Str(i.profile));
}

std::string Str(const LoggedEvent& e) {
  return fmt::format("#{} {} {} lead={} c={} att={} st={} lease={} dialer={} reason={} name={} settings=({}) {}", e.seq,
                     e.ts, EventTypeName(e.type), e.lead, e.campaign, e.attempt, LeadStatusName(e.status),
                     e.lease_until, e.dialer, e.reason, e.campaign_name, Str(e.settings), Str(e.profile));
}

void ExpectCode(const Status& s, Status::Code code, std::string_view needle) {
  EXPECT_EQ(std::string(Status::CodeName(s.code())), Status::CodeName(code)) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(std::string(needle))) << s.ToString();
}

// Everything a Store shows, as text: campaigns, counts, every lead with its
// profile and history, the do-not-call entries of `phones`, the digest.
std::string Describe(const Store& store, const std::vector<std::string>& phones = {}) {
  std::string out;
  out += fmt::format("last_seq={} head={}\n", store.LastSeq(), store.Head().Hex());
  uint64_t leads = 0;
  for (const CampaignCounts& cc : store.AllCounts()) {
    const Campaign& c = cc.campaign;
    out += fmt::format("campaign {} '{}' created={} {} counts {}\n", c.id, c.name, c.created, Str(c.settings),
                       Str(cc.counts));
    leads += cc.counts.total;
  }
  for (LeadId id = 1; id <= leads; ++id) {
    Result<LeadInfo> info = store.GetLead(id);
    if (!info.ok()) {
      out += fmt::format("lead {}: {}\n", id, info.status().ToString());
      continue;
    }
    out += Str(*info) + "\n";
    std::vector<LoggedEvent> history;
    Status s = store.History(id, &history);
    if (!s.ok()) out += "  history: " + s.ToString() + "\n";
    for (const LoggedEvent& e : history) out += "  " + Str(e) + "\n";
  }
  for (const std::string& p : phones) {
    Result<DncEntry> e = store.GetDoNotCall(p);
    out += e.ok() ? fmt::format("dnc {} ts={} seq={} reason={}\n", e->phone, e->ts, e->seq, e->reason)
                  : fmt::format("dnc {}: {}\n", p, e.status().ToString());
  }
  return out;
}

std::vector<std::string> AuditProblems(const Store& store, VerifyOptions options = {}) {
  AuditReport report;
  Status s = store.Verify(options, &report);
  if (!s.ok()) return {"verify failed: " + s.ToString()};
  std::vector<std::string> out;
  for (const AuditProblem& p : report.problems) out.push_back(fmt::format("{} seq={} lead={}: {}", p.rule, p.seq, p.lead, p.detail));
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  Options Opts() {
    Options o;
    o.clock = clock_.AsFunction();
    return o;
  }
  std::unique_ptr<Store> OpenOk(Options o, const std::string& path) {
    std::unique_ptr<Store> s;
    Status st = Store::Open(o, path, &s);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }
  std::unique_ptr<Store> OpenOk() { return OpenOk(Opts(), db_); }

  // A database with something of everything: two campaigns with settings,
  // leads with profiles and custom fields, claims, each outcome, an expiry,
  // a do-not-call phone and a marked lead, a requeue, a settings update.
  void Populate(Store& s) {
    CampaignSettings settings;
    settings.max_attempts = 4;
    settings.retry_no_answer = 30 * kMinute;
    settings.retry_voicemail = 2 * kHour;
    settings.retry_failed = 6 * kHour;
    settings.lease = 5 * kMinute;
    ASSERT_TRUE(s.CreateCampaign("spring", settings).ok());
    ASSERT_TRUE(s.CreateCampaign("autumn", CampaignSettings{}).ok());
    std::vector<LeadInput> leads;
    for (int i = 0; i < 12; ++i) {
      LeadInput in;
      in.phone = Phone(i);
      in.first_name = fmt::format("First{}", i);
      in.last_name = i % 2 ? "Müller" : "";
      in.email = i % 3 ? fmt::format("p{}@example.com", i) : "";
      if (i % 4 == 0) in.custom = {{"account", fmt::format("AC-{}", i)}, {"appointment", "2026-12-05 10:00"}};
      leads.push_back(in);
    }
    Result<AddLeadsResult> r = s.AddLeads("spring", leads);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->imported, 12u);
    ASSERT_TRUE(s.AddLeads("autumn", {{Phone(0)}, {Phone(1)}, {Phone(100)}}).ok());
    clock_.Advance(kMinute);
    Result<std::vector<ClaimedLead>> claimed = s.Claim("spring", 8, "d1");
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 8u);
    const LeadStatus outcomes[] = {LeadStatus::kCompleted, LeadStatus::kNoAnswer, LeadStatus::kVoicemail,
                                   LeadStatus::kFailed, LeadStatus::kCompleted, LeadStatus::kNoAnswer};
    clock_.Advance(kMinute);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(s.Report((*claimed)[i].lead, 1, outcomes[i], "r").ok());
    // Leads 7 and 8 stay calling until their lease runs out.
    clock_.Advance(5 * kMinute);
    Result<std::vector<LeadInfo>> expired = s.Expire();
    ASSERT_TRUE(expired.ok());
    ASSERT_EQ(expired->size(), 2u);
    ASSERT_TRUE(s.AddDoNotCall(Phone(1), "complaint").ok());  // spring lead 2 and autumn lead 14
    ASSERT_TRUE(s.MarkLeadDoNotCall(10, "asked").ok());
    ASSERT_TRUE(s.Requeue(1, "callback requested").ok());
    settings.max_attempts = 2;
    ASSERT_TRUE(s.UpdateCampaign("spring", settings).ok());
    clock_.Advance(kHour);
    Result<std::vector<ClaimedLead>> again = s.Claim("spring", 3, "d2");
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), 3u);
    ASSERT_TRUE(s.Report((*again)[0].lead, (*again)[0].attempt, LeadStatus::kVoicemail, "").ok());
  }

  ManualClock clock_;
  ScratchDir dir_{"store"};
  std::string db_ = dir_.Sub("db");
};

TEST_F(StoreTest, ReopenKeepsEverything) {
  std::string before;
  Digest head;
  {
    std::unique_ptr<Store> s = OpenOk();
    ASSERT_TRUE(s);
    Populate(*s);
    before = Describe(*s, {Phone(1), Phone(2)});
    head = s->Head();
    EXPECT_GT(head.seq, 30u);
  }
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  EXPECT_EQ(Describe(*s, {Phone(1), Phone(2)}), before);
  EXPECT_EQ(s->Head().seq, head.seq);
  EXPECT_EQ(s->Head().Hex(), head.Hex());
  // Spot checks of what Describe covers.
  Result<LeadInfo> lead1 = s->GetLead(1);
  ASSERT_TRUE(lead1.ok());
  EXPECT_EQ(lead1->status, LeadStatus::kPending);
  EXPECT_EQ(lead1->profile.first_name, "First0");
  EXPECT_EQ(lead1->profile.custom, (std::vector<CustomField>{{"account", "AC-0"}, {"appointment", "2026-12-05 10:00"}}));
  EXPECT_EQ(s->GetCampaign("spring")->settings.max_attempts, 2u);
  EXPECT_EQ(s->GetCampaign("spring")->settings.retry_voicemail, 2 * kHour);
  EXPECT_TRUE(*s->IsDoNotCall(Phone(1)));
  EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());
  // And once more, after writing through the reopened store.
  ASSERT_TRUE(s->Report(2, 1, LeadStatus::kNoAnswer, "").ok());  // dnc lead: already ended, same outcome: no-op
  clock_.Advance(kMinute);
  ASSERT_TRUE(s->CreateCampaign("winter", {}).ok());
  before = Describe(*s);
  s.reset();
  s = OpenOk();
  EXPECT_EQ(Describe(*s), before);
}

TEST_F(StoreTest, RefusesARocksDbThatIsNotLeadlogs) {
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, db_, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "hello", "world").ok());
    delete raw;
  }
  std::unique_ptr<Store> s;
  Status st = Store::Open(Opts(), db_, &s);
  ExpectCode(st, Status::Code::kNotSupported, "not a leadlog database");
  EXPECT_FALSE(s);
  Options ro = Opts();
  ro.read_only = true;
  EXPECT_FALSE(Store::Open(ro, db_, &s).ok());
  // Untouched: still only the default column family and its key.
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_, &families).ok());
  EXPECT_EQ(families, std::vector<std::string>{rocksdb::kDefaultColumnFamilyName});
}

TEST_F(StoreTest, RefusesANonEmptyDirectoryThatIsNoDatabase) {
  fs::create_directories(db_);
  testing::WriteFile(db_ + "/notes.txt", "my notes");
  std::unique_ptr<Store> s;
  ExpectCode(Store::Open(Opts(), db_, &s), Status::Code::kInvalidArgument, "not empty");
  EXPECT_FALSE(s);
  EXPECT_EQ(testing::ReadFile(db_ + "/notes.txt"), "my notes");
  EXPECT_FALSE(fs::exists(db_ + "/CURRENT"));
  // A plain file where the directory should be.
  testing::WriteFile(dir_.Sub("file"), "x");
  ExpectCode(Store::Open(Opts(), dir_.Sub("file"), &s), Status::Code::kInvalidArgument, "not a directory");
}

TEST_F(StoreTest, OpenWithoutCreateIfMissingIsNotFound) {
  Options o = Opts();
  o.create_if_missing = false;
  std::unique_ptr<Store> s;
  ExpectCode(Store::Open(o, db_, &s), Status::Code::kNotFound, "no leadlog database");
  EXPECT_FALSE(fs::exists(db_));
  o.read_only = true;
  ExpectCode(Store::Open(o, db_, &s), Status::Code::kNotFound, "no leadlog database");
}

// Writes meta/format_version with RocksDB directly.
void WriteFormatVersion(const std::string& path, uint32_t version) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &raw).ok());
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  for (auto* h : handles) {
    if (h->GetName() == keys::kMetaCF) meta = h;
  }
  ASSERT_NE(meta, nullptr);
  std::string value(4, '\0');
  for (int i = 0; i < 4; ++i) value[i] = static_cast<char>((version >> (8 * (3 - i))) & 0xff);
  EXPECT_EQ(std::string(keys::FormatVersion(version).view()), value);
  ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), meta, rocksdb::Slice(keys::kMetaFormatVersion.data(),
                                                                     keys::kMetaFormatVersion.size()),
                       value)
                  .ok());
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
}

TEST_F(StoreTest, RefusesANewerFormatVersion) {
  {
    std::unique_ptr<Store> s = OpenOk();
    ASSERT_TRUE(s->CreateCampaign("c", {}).ok());
  }
  WriteFormatVersion(db_, 1);  // the current version: still opens
  {
    std::unique_ptr<Store> s = OpenOk();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->LastSeq(), 1u);
  }
  WriteFormatVersion(db_, 2);
  std::unique_ptr<Store> s;
  ExpectCode(Store::Open(Opts(), db_, &s), Status::Code::kNotSupported, "newer");
  EXPECT_FALSE(s);
  Options ro = Opts();
  ro.read_only = true;
  ExpectCode(Store::Open(ro, db_, &s), Status::Code::kNotSupported, "newer");
}

TEST_F(StoreTest, DatabaseDirectoryIsOwnerOnly) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  struct stat st {};
  ASSERT_EQ(::stat(db_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << std::oct << (st.st_mode & 0777);
}

TEST_F(StoreTest, SecondWriterIsBusyReadersStillWork) {
  std::unique_ptr<Store> writer = OpenOk();
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->CreateCampaign("c", {}).ok());
  std::unique_ptr<Store> second;
  Status st = Store::Open(Opts(), db_, &second);
  ExpectCode(st, Status::Code::kBusy, "in use");
  EXPECT_TRUE(st.IsBusy());
  EXPECT_FALSE(second);
  // The first writer is unaffected.
  ASSERT_TRUE(writer->AddLead("c", {Phone(1)}).ok());
  Options ro = Opts();
  ro.read_only = true;
  std::unique_ptr<Store> reader = OpenOk(ro, db_);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->LastSeq(), 2u);
  // Once the writer is gone, a writer may open.
  writer.reset();
  std::unique_ptr<Store> next = OpenOk();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->LastSeq(), 2u);
}

TEST_F(StoreTest, ReadOnlyStoreSeesTheWriterAndRefusesWrites) {
  std::unique_ptr<Store> writer = OpenOk();
  ASSERT_TRUE(writer);
  Populate(*writer);
  Options ro = Opts();
  ro.read_only = true;
  std::unique_ptr<Store> reader = OpenOk(ro, db_);
  ASSERT_TRUE(reader);
  EXPECT_EQ(Describe(*reader, {Phone(1)}), Describe(*writer, {Phone(1)}));

  // Every write is refused with ReadOnly, and nothing changes.
  const SeqNo seq = reader->LastSeq();
  ExpectCode(reader->CreateCampaign("x", {}).status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->UpdateCampaign("spring", {}).status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->AddLead("spring", {Phone(50)}).status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->AddLeads("spring", {{Phone(50)}}).status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->Claim("spring", 1, "d").status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->Report(3, 1, LeadStatus::kCompleted, "").status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->Expire().status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->AddDoNotCall(Phone(50), "").status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->MarkLeadDoNotCall(3, "").status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->Requeue(4, "").status(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->Checkpoint(), Status::Code::kReadOnly, "read-only");
  ExpectCode(reader->Rebuild(), Status::Code::kReadOnly, "read-only");
  EXPECT_EQ(reader->LastSeq(), seq);
  EXPECT_EQ(writer->LastSeq(), seq);

  // Newer writes appear after CatchUp, not before.
  clock_.Advance(kMinute);
  ASSERT_TRUE(writer->AddLead("autumn", {Phone(60)}).ok());
  ASSERT_TRUE(writer->CreateCampaign("winter", {}).ok());
  ASSERT_TRUE(writer->AddDoNotCall(Phone(60), "").ok());
  EXPECT_EQ(reader->LastSeq(), seq);
  ASSERT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ(reader->LastSeq(), writer->LastSeq());
  EXPECT_EQ(reader->Head().Hex(), writer->Head().Hex());
  EXPECT_EQ(Describe(*reader, {Phone(1), Phone(60)}), Describe(*writer, {Phone(1), Phone(60)}));
  EXPECT_TRUE(reader->GetCampaign("winter").ok());
  EXPECT_THAT(AuditProblems(*reader), ::testing::IsEmpty());
  // CatchUp on a writer is a no-op.
  EXPECT_TRUE(writer->CatchUp().ok());
}

TEST_F(StoreTest, CheckpointThenMoreWritesThenReopenIsIdentical) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  Populate(*s);
  ASSERT_TRUE(s->Checkpoint().ok());
  // More writes after the checkpoint: the tail.
  clock_.Advance(kHour);
  Result<std::vector<LeadInfo>> expired = s->Expire();  // spring's last two claims
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->size(), 2u);
  ASSERT_TRUE(s->AddLeads("autumn", {{Phone(200)}, {Phone(201)}}).ok());
  Result<std::vector<ClaimedLead>> c = s->Claim("autumn", 2, "d");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(s->Report((*c)[0].lead, 1, LeadStatus::kCompleted, "").ok());
  ASSERT_TRUE(s->AddDoNotCall(Phone(201), "late").ok());
  const std::string live = Describe(*s, {Phone(1), Phone(201)});

  // The stored views are the checkpoint plus the log after it: verify
  // replays that tail and compares it with a fresh replay.
  EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());

  // A reader opens from the checkpoint and replays the tail.
  Options ro = Opts();
  ro.read_only = true;
  {
    std::unique_ptr<Store> reader = OpenOk(ro, db_);
    ASSERT_TRUE(reader);
    EXPECT_EQ(Describe(*reader, {Phone(1), Phone(201)}), live);
  }
  // An image of the directory taken now is what a crash would leave: the
  // checkpoint and a tail that only the log holds.
  const std::string image = dir_.Sub("image");
  fs::copy(db_, image, fs::copy_options::recursive);
  {
    std::unique_ptr<Store> crashed = OpenOk(Opts(), image);
    ASSERT_TRUE(crashed);
    EXPECT_EQ(Describe(*crashed, {Phone(1), Phone(201)}), live);
    EXPECT_THAT(AuditProblems(*crashed), ::testing::IsEmpty());
  }
  s.reset();
  s = OpenOk();
  EXPECT_EQ(Describe(*s, {Phone(1), Phone(201)}), live);
}

TEST_F(StoreTest, FrequentAutomaticCheckpointsKeepEverything) {
  Options o = Opts();
  o.checkpoint_every_events = 3;
  std::string live;
  {
    std::unique_ptr<Store> s = OpenOk(o, db_);
    ASSERT_TRUE(s);
    Populate(*s);
    live = Describe(*s, {Phone(1)});
    EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());
  }
  std::unique_ptr<Store> s = OpenOk(o, db_);
  ASSERT_TRUE(s);
  EXPECT_EQ(Describe(*s, {Phone(1)}), live);
  EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());
}

// Options::memtable_budget_bytes: RocksDB's per-family defaults (0) and a
// budget small enough that the memtables flush many times during the test.
TEST_F(StoreTest, AnyMemtableBudgetKeepsEverything) {
  for (size_t budget : {size_t{0}, size_t{1} << 20}) {
    SCOPED_TRACE(fmt::format("budget {}", budget));
    ScratchDir dir("budget");
    Options o = Opts();
    o.memtable_budget_bytes = budget;
    o.checkpoint_every_events = 1000;
    std::string live;
    {
      std::unique_ptr<Store> s = OpenOk(o, dir.Sub("db"));
      ASSERT_TRUE(s);
      Populate(*s);
      ASSERT_TRUE(s->CreateCampaign("bulk", CampaignSettings{}).ok());
      std::vector<LeadInput> leads;
      for (int i = 0; i < 5000; ++i) {
        LeadInput in;
        in.phone = Phone(10'000 + i);
        in.first_name = fmt::format("Bulk{}", i);
        in.custom = {{"note", std::string(200, 'n')}};
        leads.push_back(in);
      }
      Result<AddLeadsResult> r = s->AddLeads("bulk", leads);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->imported, 5000u);
      live = Describe(*s, {Phone(1)});
      EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());
      size_t tables = 0;
      for (const auto& f : fs::directory_iterator(dir.Sub("db"))) tables += f.path().extension() == ".sst";
      // The small budget made RocksDB flush while the store ran, so reads and
      // the reopen below go through flushed tables, not only memtables.
      if (budget != 0) EXPECT_GE(tables, 3u);
    }
    std::unique_ptr<Store> s = OpenOk(o, dir.Sub("db"));
    ASSERT_TRUE(s);
    EXPECT_EQ(Describe(*s, {Phone(1)}), live);
    EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());
  }
}

TEST_F(StoreTest, ReplayGivesTheCountsAsOfThen) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  struct Point {
    SeqNo seq;
    Timestamp ts;
    std::vector<std::string> counts;
  };
  std::vector<Point> points;
  auto record = [&] {
    Point p{s->LastSeq(), clock_.Now(), {}};
    for (const CampaignCounts& c : s->AllCounts()) p.counts.push_back(c.campaign.name + " " + Str(c.counts));
    points.push_back(p);
  };
  auto step = [&] { clock_.Advance(kMinute); };
  record();
  step();
  ASSERT_TRUE(s->CreateCampaign("c", {}).ok());
  record();
  step();
  ASSERT_TRUE(s->AddLeads("c", {{Phone(1)}, {Phone(2)}, {Phone(3)}}).ok());
  record();
  step();
  ASSERT_TRUE(s->Claim("c", 2, "d").ok());
  record();
  step();
  ASSERT_TRUE(s->Report(1, 1, LeadStatus::kNoAnswer, "").ok());
  record();
  step();
  ASSERT_TRUE(s->AddDoNotCall(Phone(2), "").ok());
  record();
  step();
  ASSERT_TRUE(s->CreateCampaign("d", {}).ok());
  ASSERT_TRUE(s->AddLead("d", {Phone(1)}).ok());
  record();
  ASSERT_GE(points.size(), 7u);
  for (const Point& p : points) {
    auto from_seq = s->Replay(ReplayTarget{p.seq, INT64_MAX});
    ASSERT_TRUE(from_seq.ok()) << from_seq.status().ToString();
    std::vector<std::string> got;
    for (const CampaignCounts& c : *from_seq) got.push_back(c.campaign.name + " " + Str(c.counts));
    EXPECT_EQ(got, p.counts) << "until_seq " << p.seq;
    // Until a time: every record at or before it (inclusive), none after.
    auto from_ts = s->Replay(ReplayTarget{UINT64_MAX, p.ts});
    ASSERT_TRUE(from_ts.ok());
    got.clear();
    for (const CampaignCounts& c : *from_ts) got.push_back(c.campaign.name + " " + Str(c.counts));
    EXPECT_EQ(got, p.counts) << "until_ts " << FormatTime(p.ts);
  }
  // Between two records: the state of the earlier one.
  auto mid = s->Replay(ReplayTarget{UINT64_MAX, points[3].ts + 30 * kSecond});
  ASSERT_TRUE(mid.ok());
  ASSERT_EQ(mid->size(), 1u);
  EXPECT_EQ("c " + Str((*mid)[0].counts), points[3].counts[0]);
  // A replay reads; it changes nothing.
  EXPECT_EQ(s->LastSeq(), points.back().seq);
}

TEST_F(StoreTest, VerifyOnAHealthyDatabase) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  AuditReport empty_report;
  ASSERT_TRUE(s->Verify({}, &empty_report).ok());
  EXPECT_TRUE(empty_report.ok());
  EXPECT_EQ(empty_report.events, 0u);
  Populate(*s);
  AuditReport report;
  ASSERT_TRUE(s->Verify({}, &report).ok());
  for (const AuditProblem& p : report.problems) ADD_FAILURE() << p.rule << ": " << p.detail;
  EXPECT_EQ(report.events, s->LastSeq());
  EXPECT_EQ(report.last_seq, s->LastSeq());
  // With the digest of the head, and of an earlier record.
  VerifyOptions with;
  with.check_digest = true;
  with.digest = s->Head();
  EXPECT_THAT(AuditProblems(*s, with), ::testing::IsEmpty());
  // A digest that does not match is a problem named digest_mismatch.
  with.digest.hash[0] ^= 1;
  std::vector<std::string> problems = AuditProblems(*s, with);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("digest_mismatch"));
  // One beyond the end: records were removed from its end.
  with.digest = s->Head();
  with.digest.seq += 1;
  problems = AuditProblems(*s, with);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("digest_mismatch"));
}

TEST_F(StoreTest, RebuildLeavesEverythingAndVerifyOk) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  Populate(*s);
  ASSERT_TRUE(s->Checkpoint().ok());
  clock_.Advance(kMinute);
  ASSERT_TRUE(s->AddLead("autumn", {Phone(300)}).ok());
  const std::string before = Describe(*s, {Phone(1)});
  ASSERT_TRUE(s->Rebuild().ok());
  EXPECT_EQ(Describe(*s, {Phone(1)}), before) << "the log is never rewritten";
  EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());
  // Writes go on after a rebuild, and a reopen sees them.
  ASSERT_TRUE(s->AddLead("autumn", {Phone(301)}).ok());
  const std::string after = Describe(*s, {Phone(1)});
  s.reset();
  s = OpenOk();
  EXPECT_EQ(Describe(*s, {Phone(1)}), after);
  EXPECT_THAT(AuditProblems(*s), ::testing::IsEmpty());
}

// Time outside 1970..9999 is refused by every write, whether passed or from
// the clock, and nothing is written.
TEST_F(StoreTest, AbsurdTimesAreInvalidArgumentsAndWriteNothing) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  Populate(*s);
  const std::string before = Describe(*s, {Phone(1)});
  const Timestamp year10000 = 253402300800LL * kSecond;  // 10000-01-01T00:00:00Z
  for (Timestamp bad : {Timestamp{-1}, Timestamp{-kHour}, year10000, INT64_MAX}) {
    SCOPED_TRACE(bad);
    ExpectCode(s->CreateCampaign("new", {}, bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->UpdateCampaign("spring", {}, bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->AddLead("autumn", {Phone(400)}, {}, bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->AddLeads("autumn", {{Phone(400)}}, {}, bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->Claim("autumn", 1, "d", bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->Report(7, 1, LeadStatus::kNoAnswer, "", bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->Expire(bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->AddDoNotCall(Phone(400), "", "", bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->MarkLeadDoNotCall(3, "", bad).status(), Status::Code::kInvalidArgument, "outside");
    ExpectCode(s->Requeue(5, "", bad).status(), Status::Code::kInvalidArgument, "outside");
    EXPECT_EQ(Describe(*s, {Phone(1)}), before);
  }
  // The last valid instant is fine.
  const Timestamp last = year10000 - kSecond;
  EXPECT_TRUE(s->CreateCampaign("far", {}, last).ok());
  // A clock that returns nonsense is refused the same way.
  s.reset();
  Options o = Opts();
  o.clock = [] { return Timestamp{-5}; };
  s = OpenOk(o, db_);
  ASSERT_TRUE(s);
  const SeqNo seq = s->LastSeq();
  ExpectCode(s->CreateCampaign("x", {}).status(), Status::Code::kInvalidArgument, "outside");
  ExpectCode(s->Claim("autumn", 1, "d").status(), Status::Code::kInvalidArgument, "outside");
  EXPECT_EQ(s->LastSeq(), seq);
}

// The same rule for a dialer re-sending its report of an attempt the lead has
// moved past (answered from the log, without a commit).
TEST_F(StoreTest, AbsurdTimeOnARepeatedReportOfAnEarlierAttempt) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  CampaignSettings settings;
  settings.retry_no_answer = 0;
  ASSERT_TRUE(s->CreateCampaign("c", settings).ok());
  ASSERT_TRUE(s->AddLead("c", {Phone(1)}).ok());
  ASSERT_TRUE(s->Claim("c", 1, "d").ok());
  ASSERT_TRUE(s->Report(1, 1, LeadStatus::kNoAnswer, "").ok());
  Result<std::vector<ClaimedLead>> second = s->Claim("c", 1, "d");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  ASSERT_EQ((*second)[0].attempt, 2u);
  const std::string before = Describe(*s);
  ASSERT_TRUE(s->Report(1, 1, LeadStatus::kNoAnswer, "resent").ok());  // a valid time: the OK no-op
  for (Timestamp bad : {Timestamp{-1}, Timestamp{253402300800LL * kSecond}}) {
    SCOPED_TRACE(fmt::format("now = {}", bad));
    ExpectCode(s->Report(1, 1, LeadStatus::kNoAnswer, "resent", bad).status(), Status::Code::kInvalidArgument,
               "outside");
    ExpectCode(s->Report(1, 2, LeadStatus::kNoAnswer, "", bad).status(), Status::Code::kInvalidArgument, "outside");
  }
  EXPECT_EQ(Describe(*s), before);
}

TEST_F(StoreTest, SmallEdgesOfTheApi) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  Populate(*s);
  const std::string before = Describe(*s);
  // An empty batch adds nothing and writes nothing.
  Result<AddLeadsResult> empty = s->AddLeads("autumn", {});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->imported, 0u);
  EXPECT_TRUE(empty->ids.empty());
  // National numbers need a region here too.
  ExpectCode(s->AddDoNotCall("(650) 253-0000", "").status(), Status::Code::kInvalidArgument, "national");
  ExpectCode(s->IsDoNotCall("(650) 253-0000").status(), Status::Code::kInvalidArgument, "national");
  Result<bool> listed = s->IsDoNotCall("(415) 200-0001", "US");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(*listed);
  ExpectCode(s->GetDoNotCall(Phone(3)).status(), Status::Code::kNotFound, Phone(3));
  Result<std::vector<LeadInfo>> by_phone = s->FindLeadsByPhone("(415) 200-0000", "US");
  ASSERT_TRUE(by_phone.ok());
  ASSERT_EQ(by_phone->size(), 2u);  // spring lead 1 and autumn lead 13
  EXPECT_EQ((*by_phone)[0].id, 1u);
  EXPECT_EQ((*by_phone)[1].id, 13u);
  EXPECT_EQ((*by_phone)[1].campaign_name, "autumn");
  EXPECT_EQ(Describe(*s), before);
  // A scan of one campaign sees only its events.
  CampaignId autumn = s->GetCampaign("autumn")->id;
  LogFilter f;
  f.campaign = autumn;
  int n = 0;
  ASSERT_TRUE(s->ScanLog(f, [&](const LoggedEvent& e) {
                 EXPECT_EQ(e.campaign, autumn) << Str(e);
                 ++n;
                 return true;
               }).ok());
  EXPECT_GE(n, 5);  // created, three added, the dnc move of lead 14
  // A reader opens a database no writer holds.
  s.reset();
  Options ro = Opts();
  ro.read_only = true;
  std::unique_ptr<Store> reader = OpenOk(ro, db_);
  ASSERT_TRUE(reader);
  EXPECT_EQ(Describe(*reader), before);
}

TEST_F(StoreTest, BadArgumentsAndUnknownNamesWriteNothing) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  Populate(*s);
  const std::string before = Describe(*s);
  ExpectCode(s->Claim("spring", 0, "d").status(), Status::Code::kInvalidArgument, "not 0");
  ExpectCode(s->Claim("spring", SIZE_MAX, "d").status(), Status::Code::kInvalidArgument, "1 to");
  ExpectCode(s->Claim("spring", 100001, "d").status(), Status::Code::kInvalidArgument, "1 to");
  ExpectCode(s->Claim("nope", 1, "d").status(), Status::Code::kNotFound, "nope");
  ExpectCode(s->AddLead("nope", {Phone(500)}).status(), Status::Code::kNotFound, "nope");
  ExpectCode(s->AddLeads("nope", {{Phone(500)}}).status(), Status::Code::kNotFound, "nope");
  ExpectCode(s->UpdateCampaign("nope", {}).status(), Status::Code::kNotFound, "nope");
  ExpectCode(s->GetCampaign("nope").status(), Status::Code::kNotFound, "nope");
  ExpectCode(s->Counts("nope").status(), Status::Code::kNotFound, "nope");
  ExpectCode(s->GetLead(9999).status(), Status::Code::kNotFound, "9999");
  ExpectCode(s->GetLead(0).status(), Status::Code::kNotFound, "0");
  ExpectCode(s->Report(9999, 1, LeadStatus::kCompleted, "").status(), Status::Code::kNotFound, "9999");
  ExpectCode(s->MarkLeadDoNotCall(9999, "").status(), Status::Code::kNotFound, "9999");
  ExpectCode(s->Requeue(9999, "").status(), Status::Code::kNotFound, "9999");
  ExpectCode(s->AddDoNotCall("+1 555 123 4567", "").status(), Status::Code::kInvalidArgument, "not a valid number");
  ExpectCode(s->Report(3, 1, LeadStatus::kCompleted, std::string(5000, 'r')).status(),
             Status::Code::kInvalidArgument, "reason");
  std::vector<LoggedEvent> h;
  ExpectCode(s->History(9999, &h), Status::Code::kNotFound, "9999");
  EXPECT_EQ(Describe(*s), before);
}

TEST_F(StoreTest, AddLeadsIsOneBatchWithIdsInInputOrder) {
  Options o = Opts();
  o.import_threads = 4;  // validation in parallel; ids must still follow the input
  std::unique_ptr<Store> s = OpenOk(o, db_);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->CreateCampaign("c", {}).ok());
  ASSERT_TRUE(s->AddDoNotCall(Phone(7), "").ok());
  std::vector<LeadInput> rows;
  std::map<size_t, RejectReason> bad;
  for (int i = 0; i < 3000; ++i) {
    LeadInput in;
    in.phone = Phone(i);
    in.first_name = fmt::format("row{}", i);
    if (i % 97 == 5) {
      in.phone = "+1 555 000 0000";
      bad[rows.size()] = RejectReason::kInvalidPhone;
    } else if (i % 101 == 3) {
      in.phone = Phone(0);  // row 0's phone (a valid row)
      bad[rows.size()] = RejectReason::kDuplicate;
    } else if (i % 89 == 1) {
      in.email = "no at sign";
      bad[rows.size()] = RejectReason::kInvalidEmail;
    }
    rows.push_back(in);
  }
  const SeqNo seq0 = s->LastSeq();
  Result<AddLeadsResult> r = s->AddLeads("c", rows);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->ids.size(), rows.size());
  EXPECT_EQ(r->imported, rows.size() - bad.size());
  EXPECT_EQ(r->do_not_call, 1u);
  ASSERT_EQ(r->rejects.size(), bad.size());
  size_t k = 0;
  for (const auto& [row, reason] : bad) {
    EXPECT_EQ(r->rejects[k].row, row);
    EXPECT_EQ(RejectReasonName(r->rejects[k].reason), RejectReasonName(reason)) << "row " << row;
    EXPECT_FALSE(r->rejects[k].detail.empty());
    ++k;
  }
  // Valid rows: ids ascending in input order, dense, from the next id.
  LeadId next = 1;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (bad.count(i)) {
      EXPECT_EQ(r->ids[i], 0u) << "row " << i;
      continue;
    }
    ASSERT_EQ(r->ids[i], next) << "row " << i;
    ++next;
  }
  // One record per valid row, in one dense run of the log, in input order.
  EXPECT_EQ(s->LastSeq(), seq0 + r->imported);
  std::vector<std::string> names;
  ASSERT_TRUE(s->ScanLog(LogFilter{seq0 + 1}, [&](const LoggedEvent& e) {
                 EXPECT_EQ(e.type, EventType::kLeadAdded);
                 names.push_back(e.profile.first_name);
                 return true;
               }).ok());
  std::vector<std::string> want;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!bad.count(i)) want.push_back(rows[i].first_name);
  }
  EXPECT_EQ(names, want);
  // Every added record is stamped with the same time.
  Result<LeadInfo> first = s->GetLead(1), last = s->GetLead(next - 1);
  ASSERT_TRUE(first.ok() && last.ok());
  EXPECT_EQ(first->added, last->added);
  Result<StatusCounts> counts = s->Counts("c");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[LeadStatus::kPending], r->imported - 1);
  EXPECT_EQ((*counts)[LeadStatus::kDoNotCall], 1u);
  EXPECT_EQ(counts->total, r->imported);
}

TEST_F(StoreTest, ScanLogFiltersAndHistoryAgree) {
  std::unique_ptr<Store> s = OpenOk();
  ASSERT_TRUE(s);
  Populate(*s);
  for (LeadId id : {1, 2, 7, 10}) {
    std::vector<LoggedEvent> history;
    ASSERT_TRUE(s->History(id, &history).ok());
    std::vector<std::string> scanned, from_history;
    LogFilter f;
    f.lead = id;
    ASSERT_TRUE(s->ScanLog(f, [&](const LoggedEvent& e) {
                   scanned.push_back(Str(e));
                   return true;
                 }).ok());
    for (const LoggedEvent& e : history) from_history.push_back(Str(e));
    EXPECT_EQ(scanned, from_history) << "lead " << id;
    EXPECT_FALSE(history.empty());
  }
  // from/to are inclusive; a type filter; stopping early.
  std::vector<SeqNo> seqs;
  LogFilter range;
  range.from = 3;
  range.to = 5;
  ASSERT_TRUE(s->ScanLog(range, [&](const LoggedEvent& e) {
                 seqs.push_back(e.seq);
                 return true;
               }).ok());
  EXPECT_EQ(seqs, (std::vector<SeqNo>{3, 4, 5}));
  LogFilter claims;
  claims.any_type = false;
  claims.type = EventType::kLeadClaimed;
  int n = 0;
  ASSERT_TRUE(s->ScanLog(claims, [&](const LoggedEvent& e) {
                 EXPECT_EQ(e.type, EventType::kLeadClaimed);
                 return ++n < 5;
               }).ok());
  EXPECT_EQ(n, 5);
}

}  // namespace
}  // namespace leadlog
