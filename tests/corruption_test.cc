// Tamper tests: copies of a database are damaged with RocksDB opened directly
// (no leadlog code in the way), then opened, audited and repaired through the
// public API and, when it is built, the leadlog tool.
//
// What must hold (DESIGN.md "Storage", issue 6 "Corruption"):
//  - a log record that fails the FlatBuffers verifier or the hash check is
//    reported as corruption with its sequence number: never a crash, never a
//    silent skip. Open reads the log after the checkpoint (the tail), so damage
//    there fails Open with Status::Corruption naming the record; damage before
//    the checkpoint is found by Verify (rules undecodable_record, hash_chain,
//    dense_seq);
//  - the chain alone cannot see a dropped last record: a digest taken before
//    can (digest_mismatch);
//  - stored views that disagree with the log fail a default Open with
//    Status::Corruption telling the user to run `leadlog rebuild`; opened with
//    on_damaged_views=kReplayLog, Verify reports the damage; Rebuild repairs it;
//  - `leadlog verify` exits 3 for each tamper; `leadlog rebuild` then
//    `leadlog verify` exits 0 for damaged views.
#include <fcntl.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "codec.h"
#include "keys.h"
#include "leadlog/leadlog.h"
#include "test_util.h"
#include "tool_runner.h"
#include "views_generated.h"

#ifndef LEADLOG_CRASH_CHILD_PATH
#error "tests/crash.cmake defines LEADLOG_CRASH_CHILD_PATH"
#endif

namespace leadlog {
namespace {

namespace fs = std::filesystem;
using testing::ManualClock;
using testing::RunProgram;
using testing::ScratchDir;

// ---------------------------------------------------------------- helpers

bool ToolBuilt() {
#ifdef LEADLOG_TOOL_PATH
  std::error_code ec;
  return fs::is_regular_file(LEADLOG_TOOL_PATH, ec);
#else
  return false;
#endif
}

// `leadlog --db DB ARGS...`; its exit code.
int Tool(const std::string& db, std::vector<std::string> args, std::string* output = nullptr) {
#ifdef LEADLOG_TOOL_PATH
  args.insert(args.begin(), {LEADLOG_TOOL_PATH, "--db", db});
  return RunProgram(args, output);
#else
  (void)db;
  (void)args;
  (void)output;
  return -1;
#endif
}

// RocksDB opened directly, every column family by name.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    s = rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    for (size_t i = 0; i < handles.size(); ++i) cf_[names[i]] = handles[i];
  }
  ~RawDb() {
    if (db_ == nullptr) return;
    for (auto& [name, h] : cf_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }
  bool ok() const { return db_ != nullptr; }
  std::string Get(const std::string& cf, std::string_view key) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_.at(cf), rocksdb::Slice(key.data(), key.size()), &v);
    EXPECT_TRUE(s.ok()) << cf << ": " << s.ToString();
    return v;
  }
  void Put(const std::string& cf, std::string_view key, std::string_view value) {
    rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), cf_.at(cf), rocksdb::Slice(key.data(), key.size()),
                                 rocksdb::Slice(value.data(), value.size()));
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  void Delete(const std::string& cf, std::string_view key) {
    rocksdb::Status s = db_->Delete(rocksdb::WriteOptions(), cf_.at(cf), rocksdb::Slice(key.data(), key.size()));
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  std::vector<std::pair<std::string, std::string>> Scan(const std::string& cf) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_.at(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
    return out;
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cf_;
};

std::string SeqKey(SeqNo seq) { return std::string(keys::Seq(seq).view()); }
std::string LeadKey(LeadId id) { return std::string(keys::Lead(id).view()); }
std::string CampaignKeyOf(CampaignId id) { return std::string(keys::CampaignKey(id).view()); }

std::string ProblemsText(const AuditReport& r) {
  std::string out;
  for (size_t i = 0; i < r.problems.size() && i < 20; ++i) {
    const AuditProblem& p = r.problems[i];
    out += "  seq " + std::to_string(p.seq) + " lead " + std::to_string(p.lead) + " " + p.rule + ": " + p.detail + "\n";
  }
  return out;
}

bool HasProblem(const AuditReport& r, std::string_view rule, SeqNo seq = 0) {
  for (const AuditProblem& p : r.problems) {
    if (p.rule == rule && (seq == 0 || p.seq == seq)) return true;
  }
  return false;
}

bool HasViewProblem(const AuditReport& r) {
  for (const AuditProblem& p : r.problems) {
    if (p.rule == "view_damaged" || p.rule == "view_mismatch" || p.rule == "checkpoint_mismatch") return true;
  }
  return false;
}

Status OpenStore(const std::string& db, std::unique_ptr<Store>* store,
                 Options::DamagedViews damaged = Options::DamagedViews::kFail) {
  Options options;
  options.on_damaged_views = damaged;
  options.create_if_missing = false;
  return Store::Open(options, db, store);
}

AuditReport MustVerify(Store& store, const VerifyOptions& options = {}) {
  AuditReport report;
  Status s = store.Verify(options, &report);
  EXPECT_TRUE(s.ok()) << "the audit could not run: " << s.ToString();
  return report;
}

// ---------------------------------------------------------------- the databases

// Two databases, built once: `closed` was closed cleanly (its checkpoint
// reflects the newest record); `tail` had more writes by a process that ended
// without closing, so the log has records after the checkpoint.
class CorruptionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new ScratchDir("corruption");
    closed_ = root_->Sub("closed");
    tail_ = root_->Sub("tail");
    ManualClock clock;
    Options options;
    options.clock = clock.AsFunction();
    options.checkpoint_every_events = 0;
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(options, closed_, &store).ok());
      CampaignSettings quick;
      quick.retry_no_answer = 10 * kMinute;
      ASSERT_TRUE(store->CreateCampaign("c1", CampaignSettings{}).ok());
      ASSERT_TRUE(store->CreateCampaign("c2", quick).ok());
      std::vector<LeadInput> leads;
      for (int i = 0; i < 24; ++i) {
        leads.push_back({"+1415300" + std::to_string(1000 + i), "Name" + std::to_string(i), "Last",
                         "n" + std::to_string(i) + "@example.com", {{"account", "A" + std::to_string(i)}}});
      }
      ASSERT_TRUE(store->AddLeads("c1", leads).ok());
      leads.resize(8);
      ASSERT_TRUE(store->AddLeads("c2", leads).ok());
      clock.Advance(kMinute);
      Result<std::vector<ClaimedLead>> claimed = store->Claim("c1", 6, "d1");
      ASSERT_TRUE(claimed.ok());
      ASSERT_EQ(claimed->size(), 6u);
      const LeadStatus outcomes[] = {LeadStatus::kCompleted, LeadStatus::kNoAnswer, LeadStatus::kVoicemail,
                                     LeadStatus::kFailed, LeadStatus::kCompleted};
      for (size_t i = 0; i < 5; ++i) {
        clock.Advance(kMinute);
        ASSERT_TRUE(store->Report((*claimed)[i].lead, (*claimed)[i].attempt, outcomes[i], "r").ok());
      }
      ASSERT_TRUE(store->AddDoNotCall("+14153001010", "asked").ok());
      ASSERT_TRUE(store->MarkLeadDoNotCall(20, "operator").ok());
      ASSERT_TRUE(store->Requeue((*claimed)[0].lead, "again").ok());
      clock.Advance(kHour);
      ASSERT_TRUE(store->Expire().ok());
      ASSERT_TRUE(store->Claim("c2", 3, "d2").ok());
      closed_digest_ = store->Head();
      counts_c1_ = *store->Counts("c1");
    }
    // The tail: a process writes on and ends without closing the store.
    std::error_code ec;
    fs::copy(closed_, tail_, fs::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << ec.message();
    std::string out;
    int rc = RunProgram({LEADLOG_CRASH_CHILD_PATH, "ops", tail_, root_->Sub("tail-acks"), "buffered", "7", "0", "40", "crash"},
                 &out);
    ASSERT_EQ(rc, 0) << out;
    std::unique_ptr<Store> reader;
    Options ro;
    ro.read_only = true;
    ASSERT_TRUE(Store::Open(ro, tail_, &reader).ok());
    tail_digest_ = reader->Head();
    ASSERT_GT(tail_digest_.seq, closed_digest_.seq + 4) << "the tail is too short for the tests";
    reader.reset();
    RawDb raw(tail_);
    CheckpointInfo cp;
    ASSERT_TRUE(DecodeCheckpoint(raw.Get(keys::kMetaCF, std::string(keys::kMetaCheckpoint)), &cp).ok());
    ASSERT_EQ(cp.seq, closed_digest_.seq) << "the tail database must have no checkpoint after the closed one's";
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }

  // A fresh copy of one of the databases.
  std::string Copy(const std::string& from) {
    std::string to = scratch_.Sub("db" + std::to_string(copies_++));
    std::error_code ec;
    fs::copy(from, to, fs::copy_options::recursive, ec);
    EXPECT_FALSE(ec) << ec.message();
    return to;
  }

  static ScratchDir* root_;
  static std::string closed_, tail_;
  static Digest closed_digest_, tail_digest_;
  static StatusCounts counts_c1_;
  ScratchDir scratch_{"corruption-copy"};
  int copies_ = 0;
};

ScratchDir* CorruptionTest::root_ = nullptr;
std::string CorruptionTest::closed_;
std::string CorruptionTest::tail_;
Digest CorruptionTest::closed_digest_;
Digest CorruptionTest::tail_digest_;
StatusCounts CorruptionTest::counts_c1_;

TEST_F(CorruptionTest, IntactDatabasesVerifyClean) {
  for (const std::string& base : {closed_, tail_}) {
    std::string db = Copy(base);
    std::unique_ptr<Store> store;
    ASSERT_TRUE(OpenStore(db, &store).ok());
    AuditReport report = MustVerify(*store);
    EXPECT_TRUE(report.ok()) << ProblemsText(report);
    store.reset();
    if (ToolBuilt()) {
      std::string out;
      EXPECT_EQ(Tool(db, {"verify"}, &out), 0) << out;
    }
  }
}

// ---------------------------------------------------------------- the log

// Any single byte flipped in a record before the checkpoint: Open (which
// reads only the tail) works; Verify reports the record's successor breaking
// the chain (the flipped record no longer hashes to its successor's
// prev_hash), and the record itself when it no longer decodes.
TEST_F(CorruptionTest, FlippedByteBeforeCheckpointIsReportedByVerify) {
  const SeqNo k = closed_digest_.seq / 2;
  std::string original;
  {
    RawDb raw(closed_);
    original = raw.Get(keys::kLogCF, SeqKey(k));
  }
  ASSERT_GT(original.size(), 40u);
  std::mt19937_64 rng(6);
  std::vector<size_t> offsets = {0, 1, 4, 7, original.size() / 2, original.size() - 1};
  for (int i = 0; i < 8; ++i) offsets.push_back(rng() % original.size());
  int cli_checks = 0;
  for (size_t offset : offsets) {
    SCOPED_TRACE("byte " + std::to_string(offset) + " of record " + std::to_string(k));
    std::string db = Copy(closed_);
    {
      RawDb raw(db);
      std::string bytes = original;
      bytes[offset] = static_cast<char>(bytes[offset] ^ (1 << (rng() % 8)));
      raw.Put(keys::kLogCF, SeqKey(k), bytes);
    }
    std::unique_ptr<Store> store;
    Status s = OpenStore(db, &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    AuditReport report = MustVerify(*store);
    EXPECT_FALSE(report.ok());
    EXPECT_TRUE(HasProblem(report, "hash_chain", k + 1) || HasProblem(report, "undecodable_record", k))
        << ProblemsText(report);
    store.reset();
    if (ToolBuilt() && cli_checks++ < 3) {
      std::string out;
      EXPECT_EQ(Tool(db, {"verify"}, &out), 3) << out;
    }
  }
}

// A flipped byte in a record of the tail: Open replays it and refuses with
// Status::Corruption that names the record (or its successor, whose
// prev_hash no longer matches) — never a crash, never a skip.
TEST_F(CorruptionTest, FlippedByteInTailFailsOpenNamingTheRecord) {
  const SeqNo k = (closed_digest_.seq + tail_digest_.seq) / 2;
  ASSERT_LT(k, tail_digest_.seq);
  std::string original;
  {
    RawDb raw(tail_);
    original = raw.Get(keys::kLogCF, SeqKey(k));
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 8; ++i) {
    size_t offset = i == 0 ? 0 : rng() % original.size();
    SCOPED_TRACE("byte " + std::to_string(offset) + " of record " + std::to_string(k));
    std::string db = Copy(tail_);
    {
      RawDb raw(db);
      std::string bytes = original;
      bytes[offset] = static_cast<char>(bytes[offset] ^ 0x20);
      raw.Put(keys::kLogCF, SeqKey(k), bytes);
    }
    std::unique_ptr<Store> store;
    Status s = OpenStore(db, &store);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_TRUE(s.message().find("log record " + std::to_string(k) + ":") != std::string::npos ||
                s.message().find("log record " + std::to_string(k + 1) + ":") != std::string::npos)
        << s.message();
  }
}

// Garbage that fails the FlatBuffers verifier, as the newest records of the
// tail and as a record in its middle: Status::Corruption at Open naming that
// record.
TEST_F(CorruptionTest, GarbageRecordInTailIsCorruptionWithItsSeq) {
  std::mt19937_64 rng(8);
  std::string noise(64, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  std::string truncated;
  {
    RawDb raw(tail_);
    std::string r = raw.Get(keys::kLogCF, SeqKey(tail_digest_.seq - 1));
    truncated = r.substr(0, r.size() / 2);
  }
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"noise", noise}, {"empty", ""}, {"truncated", truncated}};
  for (SeqNo k : {closed_digest_.seq + 1, (closed_digest_.seq + tail_digest_.seq) / 2, tail_digest_.seq}) {
    for (const auto& [name, bytes] : garbage) {
      SCOPED_TRACE(name + " as record " + std::to_string(k));
      std::string db = Copy(tail_);
      {
        RawDb raw(db);
        raw.Put(keys::kLogCF, SeqKey(k), bytes);
      }
      std::unique_ptr<Store> store;
      Status s = OpenStore(db, &store);
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.message().find("log record " + std::to_string(k) + ":"), std::string::npos) << s.message();
      EXPECT_NE(s.message().find("does not decode"), std::string::npos) << s.message();
      // The audit's open (views replayed from the log) must not skip it either.
      s = OpenStore(db, &store, Options::DamagedViews::kReplayLog);
      if (s.ok()) {
        AuditReport report = MustVerify(*store);
        EXPECT_TRUE(HasProblem(report, "undecodable_record", k)) << ProblemsText(report);
      } else {
        EXPECT_TRUE(s.IsCorruption()) << s.ToString();
        EXPECT_NE(s.message().find("log record " + std::to_string(k) + ":"), std::string::npos) << s.message();
      }
    }
  }
}

// Garbage before the checkpoint: Open works, Verify reports it with its seq.
TEST_F(CorruptionTest, GarbageRecordBeforeCheckpointIsReportedByVerify) {
  const SeqNo k = closed_digest_.seq / 3;
  std::string db = Copy(closed_);
  {
    RawDb raw(db);
    raw.Put(keys::kLogCF, SeqKey(k), "garbage, not a FlatBuffer");
  }
  std::unique_ptr<Store> store;
  ASSERT_TRUE(OpenStore(db, &store).ok());
  AuditReport report = MustVerify(*store);
  EXPECT_TRUE(HasProblem(report, "undecodable_record", k)) << ProblemsText(report);
  EXPECT_TRUE(HasProblem(report, "hash_chain", k + 1)) << ProblemsText(report);
  // The dump of the log must not skip it silently either.
  Status scan = store->ScanLog(LogFilter{}, [](const LoggedEvent&) { return true; });
  EXPECT_TRUE(scan.IsCorruption()) << scan.ToString();
  EXPECT_NE(scan.message().find("log record " + std::to_string(k)), std::string::npos) << scan.message();
  store.reset();
  if (ToolBuilt()) {
    std::string out;
    EXPECT_EQ(Tool(db, {"verify"}, &out), 3) << out;
  }
}

// A lead whose lead_added record (its profile) is damaged: reading the lead
// must say so, not return it without its name, email and custom fields.
TEST_F(CorruptionTest, LeadWithDamagedProfileRecordIsNotServedSilently) {
  std::string db = Copy(closed_);
  // Lead 3 of c1 was added by the batch at seq 3 (campaigns are 1 and 2).
  std::unique_ptr<Store> store;
  ASSERT_TRUE(OpenStore(db, &store).ok());
  std::vector<LoggedEvent> history;
  ASSERT_TRUE(store->History(3, &history).ok());
  ASSERT_FALSE(history.empty());
  SeqNo added = history.front().seq;
  store.reset();
  {
    RawDb raw(db);
    raw.Put(keys::kLogCF, SeqKey(added), "garbage, not a FlatBuffer");
  }
  ASSERT_TRUE(OpenStore(db, &store).ok());
  Result<LeadInfo> info = store->GetLead(3);
  if (info.ok()) {
    EXPECT_FALSE(info->profile.first_name.empty() && info->profile.custom.empty())
        << "GetLead(3) returned OK with an empty profile: the damaged record " << added << " was skipped silently";
  } else {
    EXPECT_TRUE(info.status().IsCorruption()) << info.status().ToString();
  }
}

// A record deleted from the middle: dense_seq, with the seq of the gap.
TEST_F(CorruptionTest, DeletedRecordIsReportedAsDenseSeq) {
  {
    SCOPED_TRACE("before the checkpoint");
    const SeqNo k = closed_digest_.seq / 2;
    std::string db = Copy(closed_);
    {
      RawDb raw(db);
      raw.Delete(keys::kLogCF, SeqKey(k));
    }
    std::unique_ptr<Store> store;
    ASSERT_TRUE(OpenStore(db, &store).ok());
    AuditReport report = MustVerify(*store);
    EXPECT_TRUE(HasProblem(report, "dense_seq", k + 1)) << ProblemsText(report);
    EXPECT_NE(ProblemsText(report).find(std::to_string(k)), std::string::npos);
    store.reset();
    if (ToolBuilt()) {
      std::string out;
      EXPECT_EQ(Tool(db, {"verify"}, &out), 3) << out;
    }
  }
  {
    SCOPED_TRACE("in the tail");
    const SeqNo k = (closed_digest_.seq + tail_digest_.seq) / 2;
    std::string db = Copy(tail_);
    {
      RawDb raw(db);
      raw.Delete(keys::kLogCF, SeqKey(k));
    }
    std::unique_ptr<Store> store;
    Status s = OpenStore(db, &store);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("log record " + std::to_string(k + 1)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
  }
}

// The chain alone cannot see that the newest record was removed; a digest
// taken before can.
TEST_F(CorruptionTest, DroppedLastRecordIsCaughtByTheDigest) {
  std::string db = Copy(tail_);
  {
    RawDb raw(db);
    raw.Delete(keys::kLogCF, SeqKey(tail_digest_.seq));
  }
  std::unique_ptr<Store> store;
  ASSERT_TRUE(OpenStore(db, &store).ok());
  EXPECT_EQ(store->LastSeq(), tail_digest_.seq - 1);
  AuditReport report = MustVerify(*store);
  EXPECT_TRUE(report.ok()) << "without a digest the shorter log is consistent:\n" << ProblemsText(report);
  VerifyOptions with_digest;
  with_digest.check_digest = true;
  with_digest.digest = tail_digest_;
  report = MustVerify(*store, with_digest);
  EXPECT_TRUE(HasProblem(report, "digest_mismatch", tail_digest_.seq)) << ProblemsText(report);
  // An older digest still proves the prefix.
  with_digest.digest = closed_digest_;
  report = MustVerify(*store, with_digest);
  EXPECT_TRUE(report.ok()) << ProblemsText(report);
  store.reset();
  if (ToolBuilt()) {
    std::string out;
    std::string flag = std::to_string(tail_digest_.seq) + ":" + tail_digest_.Hex();
    EXPECT_EQ(Tool(db, {"verify"}, &out), 0) << out;
    EXPECT_EQ(Tool(db, {"verify", "--digest", flag}, &out), 3) << out;
    EXPECT_NE(out.find("digest_mismatch"), std::string::npos) << out;
  }
}

// The newest record dropped where the checkpoint reflects it: the checkpoint
// no longer describes the log (detected at open); after a rebuild the views
// follow the shorter log, and only the digest still tells.
TEST_F(CorruptionTest, DroppedLastRecordUnderTheCheckpoint) {
  std::string db = Copy(closed_);
  {
    RawDb raw(db);
    raw.Delete(keys::kLogCF, SeqKey(closed_digest_.seq));
  }
  std::unique_ptr<Store> store;
  Status s = OpenStore(db, &store);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("leadlog rebuild"), std::string::npos) << s.message();
  ASSERT_TRUE(OpenStore(db, &store, Options::DamagedViews::kReplayLog).ok());
  AuditReport report = MustVerify(*store);
  EXPECT_TRUE(HasProblem(report, "checkpoint_mismatch")) << ProblemsText(report);
  ASSERT_TRUE(store->Rebuild().ok());
  VerifyOptions with_digest;
  with_digest.check_digest = true;
  with_digest.digest = closed_digest_;
  report = MustVerify(*store, with_digest);
  EXPECT_TRUE(HasProblem(report, "digest_mismatch")) << ProblemsText(report);
}

// `leadlog verify` must report damage to the log with exit 3 wherever it is,
// also after the checkpoint (where a default Open refuses the database).
TEST_F(CorruptionTest, ToolVerifyReportsDamagedLogInTheTail) {
  if (!ToolBuilt()) GTEST_SKIP() << "the leadlog tool is not built";
  const SeqNo k = (closed_digest_.seq + tail_digest_.seq) / 2;
  const std::vector<std::pair<std::string, std::function<void(RawDb&)>>> tampers = {
      {"flipped byte", [k](RawDb& raw) {
         std::string r = raw.Get(keys::kLogCF, SeqKey(k));
         r[r.size() / 2] = static_cast<char>(r[r.size() / 2] ^ 0x01);
         raw.Put(keys::kLogCF, SeqKey(k), r);
       }},
      {"garbage record", [k](RawDb& raw) { raw.Put(keys::kLogCF, SeqKey(k), "garbage, not a FlatBuffer"); }},
      {"deleted record", [k](RawDb& raw) { raw.Delete(keys::kLogCF, SeqKey(k)); }},
  };
  for (const auto& [name, tamper] : tampers) {
    SCOPED_TRACE(name + " at seq " + std::to_string(k) + " (after the checkpoint)");
    std::string db = Copy(tail_);
    {
      RawDb raw(db);
      tamper(raw);
    }
    std::string out;
    EXPECT_EQ(Tool(db, {"verify"}, &out), 3) << out;
    EXPECT_EQ(Tool(db, {"--json", "verify"}, &out), 3) << out;
  }
}

// ---------------------------------------------------------------- the views

struct ViewDamage {
  std::string name;
  std::function<void(RawDb&)> damage;
};

std::vector<ViewDamage> ViewDamages() {
  auto edit_lead = [](LeadId id, std::function<void(LeadRow&)> edit) {
    return [id, edit](RawDb& raw) {
      std::string bytes = raw.Get(keys::kLeadsCF, LeadKey(id));
      LeadId got = 0;
      LeadRow row;
      ASSERT_TRUE(DecodeLeadView(bytes, &got, &row).ok());
      edit(row);
      raw.Put(keys::kLeadsCF, LeadKey(id), EncodeLeadView(id, row));
    };
  };
  auto edit_counts = [](CampaignId id, std::function<void(StatusCounts&)> edit) {
    return [id, edit](RawDb& raw) {
      std::string bytes = raw.Get(keys::kCampaignsCF, CampaignKeyOf(id));
      CampaignState c;
      ASSERT_TRUE(DecodeCampaignView(bytes, &c.info, &c.counts).ok());
      edit(c.counts);
      raw.Put(keys::kCampaignsCF, CampaignKeyOf(id), EncodeCampaignView(c));
    };
  };
  return {
      {"garbage lead row", [](RawDb& raw) { raw.Put(keys::kLeadsCF, LeadKey(3), "garbage"); }},
      {"lead row with another status",
       edit_lead(4, [](LeadRow& r) { r.status = r.status == LeadStatus::kPending ? LeadStatus::kCompleted : LeadStatus::kPending; })},
      {"lead row deleted", [](RawDb& raw) { raw.Delete(keys::kLeadsCF, LeadKey(5)); }},
      {"lead row of an unknown lead", [](RawDb& raw) { raw.Put(keys::kLeadsCF, LeadKey(999), raw.Get(keys::kLeadsCF, LeadKey(1))); }},
      {"campaign counts changed", edit_counts(1, [](StatusCounts& c) {
         ++c.by_status[static_cast<int>(LeadStatus::kPending)];
         ++c.total;
       })},
      {"campaign counts moved between statuses", edit_counts(1, [](StatusCounts& c) {
         --c.by_status[static_cast<int>(LeadStatus::kPending)];
         ++c.by_status[static_cast<int>(LeadStatus::kCompleted)];
       })},
      {"campaign row garbage", [](RawDb& raw) { raw.Put(keys::kCampaignsCF, CampaignKeyOf(2), "garbage"); }},
      {"campaign row deleted", [](RawDb& raw) { raw.Delete(keys::kCampaignsCF, CampaignKeyOf(2)); }},
      {"do-not-call entry deleted", [](RawDb& raw) { raw.Delete(keys::kDncCF, "+14153001010"); }},
      {"do-not-call entry garbage", [](RawDb& raw) { raw.Put(keys::kDncCF, "+14153001010", "garbage"); }},
      {"checkpoint record garbage",
       [](RawDb& raw) { raw.Put(keys::kMetaCF, std::string(keys::kMetaCheckpoint), "garbage"); }},
  };
}

// A damaged view fails a default Open with a message that says to run
// `leadlog rebuild`; the audit's open (kReplayLog) reports it; Rebuild
// repairs it, and the repaired views are the original ones.
TEST_F(CorruptionTest, DamagedViewFailsOpenAndRebuildRepairsIt) {
  std::vector<ViewDamage> damages = ViewDamages();
  for (size_t i = 0; i < damages.size(); ++i) {
    const ViewDamage& d = damages[i];
    // Every damage on the cleanly closed database; every other one also
    // with a log tail after the checkpoint.
    std::vector<std::string> bases = {closed_};
    if (i % 2 == 0) bases.push_back(tail_);
    for (const std::string& base : bases) {
      SCOPED_TRACE(d.name + (base == tail_ ? " (with a log tail)" : ""));
      std::string db = Copy(base);
      {
        RawDb raw(db);
        ASSERT_TRUE(raw.ok());
        d.damage(raw);
      }
      std::unique_ptr<Store> store;
      Status s = OpenStore(db, &store);
      ASSERT_TRUE(s.IsCorruption()) << "a default open accepted the damaged view: " << s.ToString();
      EXPECT_NE(s.message().find("leadlog rebuild"), std::string::npos) << s.message();

      ASSERT_TRUE(OpenStore(db, &store, Options::DamagedViews::kReplayLog).ok());
      AuditReport report = MustVerify(*store);
      EXPECT_TRUE(HasViewProblem(report)) << ProblemsText(report);
      // Served views come from the log, so they are right even now.
      EXPECT_TRUE(*store->Counts("c1") == counts_c1_ || base == tail_);
      ASSERT_TRUE(store->Rebuild().ok());
      store.reset();

      ASSERT_TRUE(OpenStore(db, &store).ok()) << "after Rebuild";
      report = MustVerify(*store);
      EXPECT_TRUE(report.ok()) << ProblemsText(report);
      if (base == closed_) {
        EXPECT_TRUE(*store->Counts("c1") == counts_c1_);
      }
    }
  }
}

// The same through the tool: verify exits 3, rebuild repairs, verify exits 0.
TEST_F(CorruptionTest, ToolVerifyAndRebuildOnDamagedViews) {
  if (!ToolBuilt()) GTEST_SKIP() << "the leadlog tool is not built";
  std::vector<ViewDamage> damages = ViewDamages();
  for (size_t i = 0; i < damages.size(); i += 2) {
    const ViewDamage& d = damages[i];
    SCOPED_TRACE(d.name);
    std::string db = Copy(tail_);
    {
      RawDb raw(db);
      d.damage(raw);
    }
    std::string out;
    EXPECT_EQ(Tool(db, {"counts"}, &out), 1) << "a default open should refuse:\n" << out;
    EXPECT_NE(out.find("leadlog rebuild"), std::string::npos) << out;
    EXPECT_EQ(Tool(db, {"verify"}, &out), 3) << out;
    EXPECT_EQ(Tool(db, {"--json", "verify"}, &out), 3) << out;
    EXPECT_NE(out.find("\"ok\":false"), std::string::npos) << out;
    EXPECT_EQ(Tool(db, {"rebuild"}, &out), 0) << out;
    EXPECT_EQ(Tool(db, {"verify"}, &out), 0) << out;
    std::string flag = std::to_string(tail_digest_.seq) + ":" + tail_digest_.Hex();
    EXPECT_EQ(Tool(db, {"verify", "--digest", flag}, &out), 0) << "rebuild must not change the log:\n" << out;
  }
}

// A view changed to another valid value that keeps the counts right (a lead's
// attempt number, its due time): still a checkpoint that disagrees with the
// log, so a default Open must detect it too.
TEST_F(CorruptionTest, ConsistentlyTamperedLeadRowIsDetectedAtOpen) {
  std::string db = Copy(closed_);
  {
    RawDb raw(db);
    std::string bytes = raw.Get(keys::kLeadsCF, LeadKey(2));
    LeadId id = 0;
    LeadRow row;
    ASSERT_TRUE(DecodeLeadView(bytes, &id, &row).ok());
    row.attempt += 5;
    row.when += kHour;
    raw.Put(keys::kLeadsCF, LeadKey(2), EncodeLeadView(id, row));
  }
  // First a default open (a clean close afterwards writes nothing: no events).
  std::unique_ptr<Store> store;
  Status s = OpenStore(db, &store);
  EXPECT_TRUE(s.IsCorruption()) << "a default Open served lead 2 from a tampered view (attempt +5): " << s.ToString();
  store.reset();
  ASSERT_TRUE(OpenStore(db, &store, Options::DamagedViews::kReplayLog).ok());
  AuditReport report = MustVerify(*store);
  EXPECT_TRUE(HasViewProblem(report)) << "Verify must see it:\n" << ProblemsText(report);
}

// The per-lead history index (column family lead_events) is derived from the
// log like every view: damage to it must show in the audit, and Rebuild must
// repair it.
TEST_F(CorruptionTest, DamagedHistoryIndexIsReportedAndRebuilt) {
  std::string db = Copy(closed_);
  size_t removed = 0;
  {
    RawDb raw(db);
    std::string prefix = LeadKey(1);
    for (const auto& [key, value] : raw.Scan(keys::kLeadEventsCF)) {
      if (key.compare(0, prefix.size(), prefix) == 0) {
        LeadId lead = 0;
        SeqNo first = 0;
        std::vector<SeqNo> run;
        ASSERT_TRUE(keys::DecodeLeadEvent(key, &lead, &first));
        ASSERT_TRUE(keys::DecodeLeadEventRun(first, value, &run));
        raw.Delete(keys::kLeadEventsCF, key);
        removed += run.size();  // records, not entries: an entry holds a run
      }
    }
  }
  ASSERT_GT(removed, 0u);
  std::unique_ptr<Store> store;
  ASSERT_TRUE(OpenStore(db, &store, Options::DamagedViews::kReplayLog).ok());
  AuditReport report = MustVerify(*store);
  EXPECT_FALSE(report.ok()) << "the history of lead 1 lost " << removed << " index entries and Verify saw nothing";
  ASSERT_TRUE(store->Rebuild().ok());
  std::vector<LoggedEvent> events;
  ASSERT_TRUE(store->History(1, &events).ok());
  // History = the indexed records + the lead's lead_added (from its row).
  EXPECT_EQ(events.size(), removed + 1) << "Rebuild must restore the history index";
}

// Each kind of difference in the history index is named with its lead and
// record, on either side of the lead id at which the audit splits its scan;
// entries may hold runs of records (keys.h) or one record each.
// A checkpoint's lead view goes into a row of narrow fields (LeadRow): a
// value no log can produce is refused by name, never truncated into another.
TEST(LeadViewTest, WidestValuesRoundTripAndImpossibleOnesAreRefused) {
  LeadRow row;
  row.phone = 999'999'999'999'999ULL;
  row.when = 1'800'000'000'000'000;
  row.added_seq = LeadRow::kMaxAddedSeq;
  row.campaign = 0xFFFFFFFFu;
  row.attempt = 0xFFFFFFFFu;
  row.budget_used = 1000;
  row.status = LeadStatus::kDoNotCall;
  row.last_outcome = LeadStatus::kFailed;
  row.flags = LeadRow::kCallOpen;
  LeadId id = 0;
  LeadRow back;
  ASSERT_TRUE(DecodeLeadView(EncodeLeadView(7, row), &id, &back).ok());
  EXPECT_EQ(id, 7u);
  EXPECT_TRUE(back.SameState(row));
  EXPECT_EQ(back.budget_start(), 0xFFFFFFFFu - 1000);

  // EncodeLeadView writes budget_start = attempt - used; a damaged view can
  // hold anything, so build the impossible ones from a row and edit the view.
  auto view_with = [](uint64_t phone, uint32_t attempt, uint32_t budget_start, uint64_t added_seq) {
    flatbuffers::FlatBufferBuilder fbb;
    auto v = fb::CreateLeadView(fbb, 1, 1, phone, fb::LeadStatus::pending, attempt, budget_start, 0, added_seq);
    fbb.Finish(v);
    return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  };
  ASSERT_TRUE(DecodeLeadView(view_with(14155550100ULL, 3, 1, 5), &id, &back).ok());
  EXPECT_EQ(back.attempts_used(), 2u);
  struct Bad {
    std::string view;
    std::string_view message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {view_with(0, 0, 0, 5), "impossible phone"},
           {view_with(LeadRow::kMaxPhone + 1, 0, 0, 5), "impossible phone"},
           {view_with(14155550100ULL, 1, 2, 5), "impossible attempt budget"},
           {view_with(14155550100ULL, 70000, 0, 5), "impossible attempt budget"},
           {view_with(14155550100ULL, 0, 0, LeadRow::kMaxAddedSeq + 1), "impossible added_seq"},
       }) {
    Status s = DecodeLeadView(bad.view, &id, &back);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(bad.message), std::string::npos) << s.ToString();
  }
}

TEST_F(CorruptionTest, HistoryIndexDifferencesAreEachNamed) {
  std::string db = Copy(closed_);
  auto records_of = [](RawDb& raw, LeadId lead) {
    std::vector<SeqNo> seqs;
    for (const auto& [key, value] : raw.Scan(keys::kLeadEventsCF)) {
      LeadId l = 0;
      SeqNo first = 0;
      if (keys::DecodeLeadEvent(key, &l, &first) && l == lead) {
        EXPECT_TRUE(keys::DecodeLeadEventRun(first, value, &seqs)) << "lead " << lead << " has a damaged entry";
      }
    }
    return seqs;
  };
  SeqNo dropped = 0, borrowed = 0;
  {
    RawDb raw(db);
    std::vector<SeqNo> of26 = records_of(raw, 26), of4 = records_of(raw, 4);
    ASSERT_GE(of26.size(), 1u) << "lead 26 was claimed (its lead_added is not indexed)";
    ASSERT_GE(of4.size(), 2u) << "lead 4 was claimed and reported";
    // An entry for a lead's own lead_added record, as older builds wrote
    // them: accepted, not damage.
    LeadId id = 0;
    LeadRow row10;
    ASSERT_TRUE(DecodeLeadView(raw.Get(keys::kLeadsCF, LeadKey(10)), &id, &row10).ok());
    raw.Put(keys::kLeadEventsCF, keys::LeadEvent(10, row10.added_seq).view(), "");
    dropped = of26.back();
    borrowed = of4.back();
    // Lead 26 (high half): its entries rewritten one record each, less one.
    std::string prefix = LeadKey(26);
    for (const auto& [key, value] : raw.Scan(keys::kLeadEventsCF)) {
      if (key.compare(0, prefix.size(), prefix) == 0) raw.Delete(keys::kLeadEventsCF, key);
    }
    for (SeqNo seq : of26) {
      if (seq != dropped) raw.Put(keys::kLeadEventsCF, keys::LeadEvent(26, seq).view(), "");
    }
    raw.Put(keys::kLeadEventsCF, keys::LeadEvent(3, borrowed).view(), "");   // low half: another lead's record
    raw.Put(keys::kLeadEventsCF, keys::LeadEvent(1000, 5).view(), "");      // a lead the log never had
    raw.Put(keys::kLeadEventsCF, keys::LeadEvent(7, 999999).view(), "\x80");  // a value that is not a run
    raw.Put(keys::kLeadEventsCF, "abc", "");                                 // not a history key at all
  }
  std::unique_ptr<Store> store;
  ASSERT_TRUE(OpenStore(db, &store, Options::DamagedViews::kReplayLog).ok());
  AuditReport report = MustVerify(*store);
  auto has = [&](LeadId lead, SeqNo seq, std::string_view words) {
    for (const AuditProblem& p : report.problems) {
      if (p.rule == "history_index" && p.lead == lead && p.seq == seq && p.detail.find(words) != std::string::npos)
        return true;
    }
    return false;
  };
  EXPECT_TRUE(has(26, dropped, "lacks")) << ProblemsText(report);
  EXPECT_TRUE(has(3, borrowed, "which the log does not")) << ProblemsText(report);
  EXPECT_TRUE(has(1000, 5, "which the log does not")) << ProblemsText(report);
  EXPECT_TRUE(has(7, 999999, "not a valid run")) << ProblemsText(report);
  EXPECT_TRUE(has(0, 0, "not 16 bytes")) << ProblemsText(report);
  size_t history_problems = 0;
  for (const AuditProblem& p : report.problems) history_problems += p.rule == "history_index";
  EXPECT_EQ(history_problems, 5u) << "exactly the five differences, nothing else:\n" << ProblemsText(report);

  // History reads the index too: lead 7's damaged entry is an error, never a
  // silently shorter history.
  std::vector<LoggedEvent> events;
  EXPECT_TRUE(store->History(7, &events).IsCorruption());
  ASSERT_TRUE(store->Rebuild().ok());
  ASSERT_TRUE(store->History(7, &events).ok());
  AuditReport after = MustVerify(*store);
  EXPECT_TRUE(after.ok()) << ProblemsText(after);
}

// A lead with records in one checkpoint gets one history index entry, and
// the index holds every record of a lead but its lead_added (the lead's row
// holds that seq): a lead that was only imported has no entry at all.
TEST_F(CorruptionTest, HistoryIndexHoldsOneRunPerLeadPerCheckpoint) {
  std::string db = Copy(closed_);
  std::map<LeadId, size_t> entries;
  size_t indexed = 0;
  {
    RawDb raw(db);
    for (const auto& [key, value] : raw.Scan(keys::kLeadEventsCF)) {
      LeadId lead = 0;
      SeqNo first = 0;
      std::vector<SeqNo> run;
      ASSERT_TRUE(keys::DecodeLeadEvent(key, &lead, &first));
      ASSERT_TRUE(keys::DecodeLeadEventRun(first, value, &run));
      ++entries[lead];
      indexed += run.size();
    }
  }
  std::unique_ptr<Store> store;
  ASSERT_TRUE(OpenStore(db, &store).ok());
  size_t beyond_added = 0, leads_with_more = 0;
  for (LeadId id = 1; id <= 32; ++id) {
    std::vector<LoggedEvent> events;
    ASSERT_TRUE(store->History(id, &events).ok());
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events[0].type, EventType::kLeadAdded) << "lead " << id;
    beyond_added += events.size() - 1;
    leads_with_more += events.size() > 1;
    EXPECT_EQ(entries.count(id) ? entries[id] : 0u, events.size() > 1 ? 1u : 0u)
        << "lead " << id << " (closed once: one checkpoint)";
  }
  EXPECT_EQ(indexed, beyond_added) << "every record of a lead but its lead_added, once";
  EXPECT_GT(beyond_added, leads_with_more) << "some leads have several records in their run";
  EXPECT_LT(leads_with_more, 32u) << "some leads were only imported";
}

// ---------------------------------------------------------------- long logs

// A log long enough that a replay reads it with two threads, in chunks of
// 32768 records taken in turn (StoreImpl::ReplayInto): the chunks must come
// back in order, each exactly once, with damage found at its own record
// whichever reader read it, and a replay to a point inside a chunk stops
// there.
TEST(LongReplayTest, TwoReaderReplayIsExactAndFindsDamageInAnyChunk) {
  ScratchDir scratch("long_replay");
  const std::string db = scratch.Sub("db");
  ManualClock clock;
  Options options;
  options.clock = clock.AsFunction();
  options.checkpoint_every_events = 0;  // the audit replays every record
  constexpr int kLeads = 45000;        // 1 + 3 x 45000 records: 5 chunks
  StatusCounts counts;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(options, db, &store).ok());
    ASSERT_TRUE(store->CreateCampaign("c", CampaignSettings{}).ok());
    std::vector<LeadInput> leads;
    for (int i = 0; i < kLeads; ++i) leads.push_back({"+1415" + std::to_string(3000000 + i)});
    Result<AddLeadsResult> added = store->AddLeads("c", leads);
    ASSERT_TRUE(added.ok());
    ASSERT_EQ(added->imported, static_cast<uint64_t>(kLeads));
    clock.Advance(kMinute);
    Result<std::vector<ClaimedLead>> claimed = store->Claim("c", kLeads, "d");
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), static_cast<size_t>(kLeads));
    for (const ClaimedLead& c : *claimed) {
      ASSERT_TRUE(store->Report(c.lead, c.attempt, c.lead % 2 ? LeadStatus::kCompleted : LeadStatus::kFailed, "").ok());
    }
    ASSERT_EQ(store->LastSeq(), 1u + 3u * kLeads);
    counts = *store->Counts("c");
  }
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(OpenStore(db, &store).ok());
    AuditReport report = MustVerify(*store);
    EXPECT_TRUE(report.ok()) << ProblemsText(report);
    EXPECT_EQ(report.events, 1u + 3u * kLeads);
    // Inside chunk 2 (read by the first reader), then inside chunk 3 (the second).
    for (SeqNo until : {SeqNo{70001}, SeqNo{100003}}) {
      Result<std::vector<CampaignCounts>> at = store->Replay({until, INT64_MAX});
      ASSERT_TRUE(at.ok()) << at.status().ToString();
      ASSERT_EQ(at->size(), 1u);
      // Records 2..45001 add leads, 45002..90001 claim them, then reports.
      const uint64_t claimed = until > 45001 ? std::min<uint64_t>(until - 45001, kLeads) : 0;
      const uint64_t reported = until > 90001 ? until - 90001 : 0;
      EXPECT_EQ((*at)[0].counts.by_status[static_cast<int>(LeadStatus::kCalling)], claimed - reported)
          << "replay to record " << until;
    }
    Result<std::vector<CampaignCounts>> all = store->Replay({});
    ASSERT_TRUE(all.ok());
    EXPECT_EQ((*all)[0].counts, counts);
  }
  // Damage in chunks of both readers, none of it cascading: record 60000 (a
  // claim, chunk 1, second reader) replaced by a copy of record 60001; report
  // records 95000 (chunk 2, first reader) and 120000 (chunk 3, second reader)
  // deleted.
  {
    RawDb raw(db);
    raw.Put(keys::kLogCF, SeqKey(60000), raw.Get(keys::kLogCF, SeqKey(60001)));
    raw.Delete(keys::kLogCF, SeqKey(95000));
    raw.Delete(keys::kLogCF, SeqKey(120000));
  }
  std::unique_ptr<Store> store;
  ASSERT_TRUE(OpenStore(db, &store, Options::DamagedViews::kReplayLog).ok());
  AuditReport report = MustVerify(*store);
  EXPECT_TRUE(HasProblem(report, "seq_mismatch", 60000)) << ProblemsText(report);
  EXPECT_TRUE(HasProblem(report, "hash_chain", 60001)) << ProblemsText(report);
  EXPECT_TRUE(HasProblem(report, "dense_seq", 95001)) << ProblemsText(report);
  EXPECT_TRUE(HasProblem(report, "dense_seq", 120001)) << ProblemsText(report);
  EXPECT_LT(report.problems.size(), 20u) << ProblemsText(report);
  EXPECT_EQ(report.events, 3u * kLeads - 1) << "every record but the two deleted, each once";
}

}  // namespace
}  // namespace leadlog
