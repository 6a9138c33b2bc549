// Hostile input and hostile environments, through the public API only.
//
// Every case must end in a clear error (a non-OK Status with a message) or a
// per-row reject, never a crash, and must leave what is already stored
// exactly as it was: the log's head, the counts, the leads.
//  - CSV: NUL bytes, invalid UTF-8, a 1 MiB field, an unterminated quote,
//    binary noise, 100K columns, a 10 KB phone, column names that collide
//    with the standard ones;
//  - the API: absurd times, claims of 0 or absurdly many leads, reports of
//    statuses that are not outcomes, names, emails and custom fields over the
//    limits, bad campaign names and settings, junk phones and regions;
//  - the environment: a second writer process (Busy, "in use"), a read-only
//    directory, the database directory's permissions (0700), a full disk
//    (writes fail with IOError, the store refuses further writes until
//    reopened, and everything acknowledged is there afterwards).
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "leadlog/leadlog.h"
#include "test_util.h"
#include "tool_runner.h"

#ifndef LEADLOG_CRASH_CHILD_PATH
#error "tests/crash.cmake defines LEADLOG_CRASH_CHILD_PATH"
#endif

namespace leadlog {
namespace {

namespace fs = std::filesystem;
using testing::ManualClock;
using testing::ReadFileOrEmpty;
using testing::RunProgram;
using testing::ScratchDir;

bool ToolBuilt() {
#ifdef LEADLOG_TOOL_PATH
  std::error_code ec;
  return fs::is_regular_file(LEADLOG_TOOL_PATH, ec);
#else
  return false;
#endif
}

// Everything a caller can see of the stored state, to prove it unchanged.
struct Snapshot {
  SeqNo last_seq = 0;
  std::string head;
  std::vector<std::pair<std::string, StatusCounts>> counts;
  std::vector<std::pair<LeadStatus, uint32_t>> leads;

  static Snapshot Of(Store& store) {
    Snapshot s;
    s.last_seq = store.LastSeq();
    s.head = store.Head().Hex();
    for (const CampaignCounts& c : store.AllCounts()) s.counts.emplace_back(c.campaign.name, c.counts);
    for (LeadId id = 1;; ++id) {
      Result<LeadInfo> info = store.GetLead(id);
      if (!info.ok()) break;
      s.leads.emplace_back(info->status, info->attempts);
    }
    return s;
  }
  bool operator==(const Snapshot& o) const {
    return last_seq == o.last_seq && head == o.head && counts == o.counts && leads == o.leads;
  }
};

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.clock = clock_.AsFunction();
    ASSERT_TRUE(Store::Open(options, dir_.Sub("db"), &store_).ok());
    ASSERT_TRUE(store_->CreateCampaign("c", CampaignSettings{}).ok());
    std::vector<LeadInput> leads;
    for (int i = 0; i < 6; ++i) leads.push_back({"+1415200000" + std::to_string(i), "Ann", "Lee", "", {}});
    ASSERT_TRUE(store_->AddLeads("c", leads).ok());
    clock_.Advance(kMinute);
    Result<std::vector<ClaimedLead>> claimed = store_->Claim("c", 2, "d");
    ASSERT_TRUE(claimed.ok());
    claimed_ = claimed->front();
    ASSERT_TRUE(store_->Report(claimed_.lead, claimed_.attempt, LeadStatus::kCompleted, "done").ok());
    ASSERT_TRUE(store_->AddDoNotCall("+14152000005", "asked").ok());
    before_ = Snapshot::Of(*store_);
  }

  // Nothing that was stored has changed.
  void ExpectUnchanged() {
    Snapshot now = Snapshot::Of(*store_);
    EXPECT_TRUE(now == before_) << "the stored state changed: seq " << before_.last_seq << " -> " << now.last_seq;
  }

  // A failed call: a non-OK status of `code` with a message.
  static void ExpectError(const Status& s, Status::Code code, const std::string& what) {
    EXPECT_EQ(s.code(), code) << what << ": " << s.ToString();
    EXPECT_FALSE(s.message().empty()) << what;
  }

  // Imports `csv` and expects no lead added (rejects or a whole-file error).
  CsvImportSummary ImportNothing(const std::string& csv, const std::string& what) {
    SCOPED_TRACE(what);
    Result<CsvImportSummary> r = ImportCsv(*store_, "c", csv);
    ExpectUnchanged();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
      EXPECT_FALSE(r.status().message().empty());
      return {};
    }
    EXPECT_EQ(r->imported, 0u);
    EXPECT_EQ(r->read, r->imported + r->rejected);
    EXPECT_EQ(r->rejects.size(), r->rejected);
    for (const CsvReject& rej : r->rejects) {
      EXPECT_GE(rej.line, 2u);
      EXPECT_FALSE(rej.detail.empty());
    }
    return *r;
  }

  ScratchDir dir_{"hostile"};
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  ClaimedLead claimed_;
  Snapshot before_;
};

// ---------------------------------------------------------------- CSV

TEST_F(HostileInputTest, CsvWithNulBytes) {
  using namespace std::string_literals;
  CsvImportSummary s = ImportNothing("phone,first_name\n+14155550100,Bo\0b\n"s, "NUL in a field");
  EXPECT_EQ(s.rejected, 1u);
  ImportNothing("phone,first_name\n\"+1415\0\",x\n"s, "NUL in a quoted phone");
  ImportNothing("pho\0ne,first_name\n+14155550100,Bob\n"s, "NUL in the header");
  ImportNothing(std::string(1000, '\0'), "nothing but NULs");
}

TEST_F(HostileInputTest, CsvWithInvalidUtf8) {
  CsvImportSummary s = ImportNothing("phone,first_name,last_name\n+14155550100,\xff\xfe,x\n+14155550101,\xc0\xaf,y\n"
                                     "+14155550102,ok,\xed\xa0\x80\n",
                                     "overlong, stray and surrogate bytes in names");
  EXPECT_EQ(s.rejected, 3u);
  for (const CsvReject& r : s.rejects) EXPECT_EQ(r.reason, RejectReason::kInvalidUtf8) << r.detail;
  ImportNothing("phone,\xff\n+14155550100,x\n", "invalid UTF-8 in the header");
  ImportNothing("phone,note\n+14155550100,\x80\x80\x80\n", "invalid UTF-8 in a custom field");
}

TEST_F(HostileInputTest, CsvWithOneMebibyteField) {
  std::string big(1 << 20, 'a');
  CsvImportSummary s = ImportNothing("phone,first_name\n+14155550100," + big + "\n", "1 MiB name");
  ASSERT_EQ(s.rejects.size(), 1u);
  EXPECT_EQ(s.rejects[0].reason, RejectReason::kFieldTooLong);
  ImportNothing("phone,first_name\n+14155550100,\"" + big + "\"\n", "1 MiB quoted name");
  ImportNothing("phone,note\n+14155550100," + big + "\n", "1 MiB custom field");
  ImportNothing("phone," + big + "\n+14155550100,x\n", "1 MiB column name");
}

TEST_F(HostileInputTest, CsvWithUnterminatedQuote) {
  CsvImportSummary s = ImportNothing("phone,first_name\n+14155550100,\"Bob\n+14155550101,Ann\n", "unterminated quote");
  EXPECT_GE(s.rejected, 1u);
  EXPECT_EQ(s.rejects[0].line, 2u);
  ImportNothing("phone,first_name\n\"", "a lone quote at the end");
  ImportNothing("\"phone,first_name\n+14155550100,x\n", "unterminated quote in the header");
  // The bad row is rejected; the good rows around it are still imported.
  Result<CsvImportSummary> r =
      ImportCsv(*store_, "c", "phone,first_name\n+14155550110,A\n+14155550111,B\"x\n+14155550112,C\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->read, r->imported + r->rejected);
  EXPECT_EQ(r->imported, 2u);
  EXPECT_EQ(store_->LastSeq(), before_.last_seq + 2);
}

TEST_F(HostileInputTest, CsvWithBinaryNoise) {
  std::mt19937_64 rng(20261204);
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE("noise " + std::to_string(i));
    std::string noise(static_cast<size_t>(rng() % 65536), '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    // Noise alone (the header is garbage) and behind a valid header.
    for (const std::string& data : {noise, "phone,first_name,email,note\n" + noise}) {
      SeqNo seq = store_->LastSeq();
      Result<CsvImportSummary> r = ImportCsv(*store_, "c", data);
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
        EXPECT_EQ(store_->LastSeq(), seq);
        continue;
      }
      EXPECT_EQ(r->read, r->imported + r->rejected);
      EXPECT_EQ(store_->LastSeq(), seq + r->imported);
    }
  }
  AuditReport report;
  ASSERT_TRUE(store_->Verify(VerifyOptions{}, &report).ok());
  EXPECT_TRUE(report.ok());
}

TEST_F(HostileInputTest, CsvWithHundredThousandColumns) {
  std::string header = "phone";
  for (int i = 0; i < 100000; ++i) header += ",c" + std::to_string(i);
  ImportNothing(header + "\n+14155550100\n", "100K columns in the header");
  std::string row = "+14155550100";
  for (int i = 0; i < 100000; ++i) row += ",x";
  CsvImportSummary s = ImportNothing("phone,first_name\n" + row + "\n", "100K fields in a row");
  EXPECT_EQ(s.rejected, 1u);
  s = ImportNothing("phone,first_name\n" + std::string(100000, ',') + "\n", "100K empty fields");
  EXPECT_EQ(s.rejected, 1u);
}

TEST_F(HostileInputTest, CsvWithTenKilobytePhone) {
  std::string phone = "+1" + std::string(10 * 1024, '5');
  CsvImportSummary s = ImportNothing("phone,first_name\n" + phone + ",x\n", "10 KB phone");
  ASSERT_EQ(s.rejected, 1u);
  EXPECT_TRUE(s.rejects[0].reason == RejectReason::kFieldTooLong || s.rejects[0].reason == RejectReason::kInvalidPhone);
  EXPECT_LT(s.rejects[0].detail.size(), 1024u) << "a reject's detail must not echo 10 KB back";
  // Through the API too.
  Result<LeadId> r = store_->AddLead("c", {phone, "", "", "", {}});
  ExpectError(r.status(), Status::Code::kInvalidArgument, "AddLead with a 10 KB phone");
  EXPECT_FALSE(store_->FindLeadsByPhone(phone).ok());
  EXPECT_FALSE(store_->AddDoNotCall(phone, "x").ok());
  EXPECT_FALSE(store_->IsDoNotCall(phone).ok());
  ExpectUnchanged();
}

TEST_F(HostileInputTest, CsvColumnNamesCollidingWithStandardOnes) {
  for (const char* raw : {"phone,Phone", "phone,first_name,FIRST_NAME", "phone, phone ", "phone,email,Email",
                          "phone,last_name,\"last_name\"", "phone,note,NOTE"}) {
    const std::string header = raw;
    SCOPED_TRACE(header);
    Result<CsvImportSummary> r = ImportCsv(*store_, "c", header + "\n+14155550100,a,b\n");
    ASSERT_FALSE(r.ok()) << "a header naming a column twice was accepted";
    ExpectError(r.status(), Status::Code::kInvalidArgument, header);
    ExpectUnchanged();
  }
  // Names that are fields of a lead's JSON but not columns of the file are
  // plain custom fields: they must not change the lead's real state.
  Result<CsvImportSummary> r =
      ImportCsv(*store_, "c", "phone,status,lead,campaign,attempts,custom\n+14155550120,completed,7,other,99,x\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->imported, 1u);
  Result<std::vector<LeadInfo>> leads = store_->FindLeadsByPhone("+14155550120");
  ASSERT_TRUE(leads.ok());
  ASSERT_EQ(leads->size(), 1u);
  const LeadInfo& lead = leads->front();
  EXPECT_EQ(lead.status, LeadStatus::kPending);
  EXPECT_EQ(lead.campaign_name, "c");
  EXPECT_EQ(lead.attempts, 0u);
  std::vector<CustomField> want = {{"status", "completed"}, {"lead", "7"}, {"campaign", "other"},
                                   {"attempts", "99"}, {"custom", "x"}};
  EXPECT_EQ(lead.profile.custom, want);
}

TEST_F(HostileInputTest, CsvEmptyAndHeaderOnly) {
  ImportNothing("", "empty file");
  ImportNothing("\n\n\n", "blank lines");
  CsvImportSummary s = ImportNothing("phone\n", "header only");
  EXPECT_EQ(s.read, 0u);
  ImportNothing("first_name,last_name\nA,B\n", "no phone column");
  EXPECT_FALSE(ImportCsv(*store_, "no such campaign", "phone\n+14155550100\n").ok());
  ExpectUnchanged();
}

// ---------------------------------------------------------------- the API

TEST_F(HostileInputTest, AbsurdTimes) {
  const Timestamp year_99999 = 3093527980800LL * kSecond;  // 99999-01-01T00:00:00Z
  for (Timestamp t : {Timestamp{-1}, -kSecond * 86400 * 365, year_99999, std::numeric_limits<Timestamp>::max(),
                      std::numeric_limits<Timestamp>::min() + 1}) {
    SCOPED_TRACE("time " + std::to_string(t));
    auto bad = [&](const Status& s, const char* what) { ExpectError(s, Status::Code::kInvalidArgument, what); };
    bad(store_->CreateCampaign("later", CampaignSettings{}, t).status(), "CreateCampaign");
    bad(store_->UpdateCampaign("c", CampaignSettings{}, t).status(), "UpdateCampaign");
    bad(store_->AddLead("c", {"+14155550130", "", "", "", {}}, {}, t).status(), "AddLead");
    bad(store_->AddLeads("c", {{"+14155550131", "", "", "", {}}}, {}, t).status(), "AddLeads");
    bad(store_->Claim("c", 1, "d", t).status(), "Claim");
    bad(store_->Report(claimed_.lead + 1, 1, LeadStatus::kNoAnswer, "", t).status(), "Report");
    bad(store_->Expire(t).status(), "Expire");
    bad(store_->AddDoNotCall("+14152000001", "x", "", t).status(), "AddDoNotCall");
    bad(store_->MarkLeadDoNotCall(3, "x", t).status(), "MarkLeadDoNotCall");
    bad(store_->Requeue(claimed_.lead, "x", t).status(), "Requeue");
    ExpectUnchanged();
  }
  // The same through a clock that has gone mad.
  store_.reset();
  Options options;
  options.clock = [] { return Timestamp{-42}; };
  ASSERT_TRUE(Store::Open(options, dir_.Sub("db"), &store_).ok());
  ExpectError(store_->Claim("c", 1, "d").status(), Status::Code::kInvalidArgument, "Claim on a mad clock");
  ExpectUnchanged();
  // And as text.
  for (const char* text : {"99999-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "2026-13-01T00:00:00Z",
                           "2026-02-30T00:00:00Z", "2026-12-04T25:00:00Z", "", "now", "1e309",
                           "2026-12-04T10:00:00+99:00"}) {
    EXPECT_FALSE(ParseTime(text).ok()) << text;
  }
  for (const char* text : {"-5m", "", "99999999999999999999d", "1y", "15", "m", "9223372036854775807s"}) {
    EXPECT_FALSE(ParseDuration(text).ok()) << text;
  }
}

TEST_F(HostileInputTest, ClaimOfNoneOrAbsurdlyMany) {
  ExpectError(store_->Claim("c", 0, "d").status(), Status::Code::kInvalidArgument, "n = 0");
  ExpectError(store_->Claim("c", std::numeric_limits<size_t>::max(), "d").status(), Status::Code::kInvalidArgument,
              "n = SIZE_MAX");
  ExpectError(store_->Claim("c", static_cast<size_t>(-1) / 2, "d").status(), Status::Code::kInvalidArgument, "n huge");
  ExpectError(store_->Claim("c", 1, std::string(100000, 'd')).status(), Status::Code::kInvalidArgument,
              "100 KB dialer id");
  ExpectError(store_->Claim("c", 1, "\xff\xfe").status(), Status::Code::kInvalidArgument, "invalid UTF-8 dialer id");
  ExpectError(store_->Claim("no such", 1, "d").status(), Status::Code::kNotFound, "unknown campaign");
  ExpectError(store_->Claim(std::string(1 << 20, 'c'), 1, "d").status(), Status::Code::kNotFound, "1 MiB campaign");
  ExpectUnchanged();
}

TEST_F(HostileInputTest, ReportOfSomethingThatIsNotAnOutcome) {
  LeadId open_lead = 0;
  uint32_t attempt = 0;
  for (LeadId id = 1; id <= 6; ++id) {
    Result<LeadInfo> info = store_->GetLead(id);
    if (info.ok() && info->status == LeadStatus::kCalling) {
      open_lead = id;
      attempt = info->attempts;
    }
  }
  ASSERT_NE(open_lead, 0u);
  for (LeadStatus s : {LeadStatus::kPending, LeadStatus::kCalling, LeadStatus::kDoNotCall, static_cast<LeadStatus>(7),
                       static_cast<LeadStatus>(200)}) {
    ExpectError(store_->Report(open_lead, attempt, s, "").status(), Status::Code::kInvalidArgument,
                "status " + std::to_string(static_cast<int>(s)));
  }
  ExpectError(store_->Report(open_lead, 0, LeadStatus::kCompleted, "").status(), Status::Code::kInvalidArgument,
              "attempt 0");
  EXPECT_FALSE(store_->Report(open_lead, std::numeric_limits<uint32_t>::max(), LeadStatus::kCompleted, "").ok());
  EXPECT_FALSE(store_->Report(0, 1, LeadStatus::kCompleted, "").ok());
  EXPECT_FALSE(store_->Report(std::numeric_limits<LeadId>::max(), 1, LeadStatus::kCompleted, "").ok());
  ExpectError(store_->Report(open_lead, attempt, LeadStatus::kCompleted, std::string(5000, 'r')).status(),
              Status::Code::kInvalidArgument, "5000-byte reason");
  ExpectError(store_->Report(open_lead, attempt, LeadStatus::kCompleted, "\xc3").status(),
              Status::Code::kInvalidArgument, "invalid UTF-8 reason");
  // A different outcome for a finished attempt.
  ExpectError(store_->Report(claimed_.lead, claimed_.attempt, LeadStatus::kFailed, "").status(),
              Status::Code::kConflict, "another outcome for a finished attempt");
  for (std::string_view name : {"", "Completed", "done", "no-answer", "calling ", "do_not_call", "pending"}) {
    LeadStatus parsed;
    bool ok = ParseLeadStatus(name, &parsed);
    EXPECT_TRUE(!ok || !IsOutcome(parsed)) << "'" << name << "' parsed as an outcome";
  }
  EXPECT_EQ(LeadStatusName(static_cast<LeadStatus>(200)), "unknown");
  ExpectUnchanged();
}

TEST_F(HostileInputTest, FieldsOverTheLimits) {
  struct Case {
    std::string what;
    LeadInput lead;
  };
  std::vector<CustomField> many;
  for (int i = 0; i < 1025; ++i) many.push_back({fmt::format("k{}", i), "v"});
  const std::string phone = "+14155550140";
  std::vector<Case> cases = {
      {"first_name of 257 bytes", {phone, std::string(257, 'a'), "", "", {}}},
      {"last_name of 100 KB", {phone, "", std::string(100000, 'b'), "", {}}},
      {"email of 255 bytes", {phone, "", "", std::string(243, 'e') + "@example.com", {}}},
      {"email without @", {phone, "", "", "nobody.example.com", {}}},
      {"email with a space", {phone, "", "", "no body@example.com", {}}},
      {"1025 custom fields", {phone, "", "", "", many}},
      {"custom key of 257 bytes", {phone, "", "", "", {{std::string(257, 'k'), "v"}}}},
      {"empty custom key", {phone, "", "", "", {{"", "v"}}}},
      {"custom value of 64 KiB + 1", {phone, "", "", "", {{"k", std::string(64 * 1024 + 1, 'v')}}}},
      {"custom value of 1 MiB", {phone, "", "", "", {{"k", std::string(1 << 20, 'v')}}}},
      {"invalid UTF-8 in a custom value", {phone, "", "", "", {{"k", "\xf8\x88\x80\x80\x80"}}}},
      {"invalid UTF-8 in a name", {phone, "\xc3\x28", "", "", {}}},
      {"empty phone", {"", "a", "", "", {}}},
      {"blank phone", {" \t ", "a", "", "", {}}},
      {"phone with a NUL", {std::string("+1415555\0" "0140", 13), "", "", "", {}}},
      {"letters", {"call me", "", "", "", {}}},
      {"too few digits", {"+1415", "", "", "", {}}},
      {"a lead already in the campaign", {"+14152000001", "", "", "", {}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Result<LeadId> r = store_->AddLead("c", c.lead);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.status().code() == Status::Code::kInvalidArgument ||
                r.status().code() == Status::Code::kAlreadyExists)
        << r.status().ToString();
    EXPECT_FALSE(r.status().message().empty());
    EXPECT_LT(r.status().message().size(), 2048u) << "an error message must not echo a huge field";
  }
  // All at once: every row rejected with a reason, nothing added.
  std::vector<LeadInput> rows;
  for (const Case& c : cases) rows.push_back(c.lead);
  Result<AddLeadsResult> r = store_->AddLeads("c", rows);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->imported, 0u);
  EXPECT_EQ(r->rejects.size(), rows.size());
  ExpectUnchanged();
  // A bad default region is the caller's mistake, not every row's.
  for (const std::string& region : {std::string("ZZ"), std::string("usa"), std::string(10000, 'U'), std::string("\xff")}) {
    EXPECT_FALSE(store_->AddLeads("c", {{"4155550150", "", "", "", {}}}, AddOptions{region}).ok()) << region;
    EXPECT_FALSE(store_->FindLeadsByPhone("4155550150", region).ok()) << region;
  }
  ExpectUnchanged();
}

TEST_F(HostileInputTest, BadCampaignNamesAndSettings) {
  for (const std::string& name : {std::string(), std::string(129, 'n'), std::string("tab\there"), std::string("nl\n"),
                                  std::string("\x7f"), std::string("\xff\xfe"), std::string("c")}) {
    EXPECT_FALSE(store_->CreateCampaign(name, CampaignSettings{}).ok()) << "'" << name << "'";
  }
  auto bad = [&](const char* what, auto edit) {
    CampaignSettings s;
    edit(s);
    EXPECT_FALSE(store_->CreateCampaign("new", s).ok()) << what;
    EXPECT_FALSE(store_->UpdateCampaign("c", s).ok()) << what;
  };
  bad("max_attempts 0", [](CampaignSettings& s) { s.max_attempts = 0; });
  bad("max_attempts 4 billion", [](CampaignSettings& s) { s.max_attempts = 4000000000u; });
  bad("negative retry delay", [](CampaignSettings& s) { s.retry_no_answer = -5; });
  bad("retry delay of 300 years", [](CampaignSettings& s) { s.retry_voicemail = 300LL * 365 * 24 * kHour; });
  bad("lease 0", [](CampaignSettings& s) { s.lease = 0; });
  bad("lease never", [](CampaignSettings& s) { s.lease = kNever; });
  bad("lease of a year", [](CampaignSettings& s) { s.lease = 365LL * 24 * kHour; });
  bad("INT64_MIN delay", [](CampaignSettings& s) { s.retry_failed = std::numeric_limits<int64_t>::min(); });
  EXPECT_FALSE(store_->UpdateCampaign("no such", CampaignSettings{}).ok());
  ExpectUnchanged();
}

TEST_F(HostileInputTest, UnknownLeadsAndIllegalMoves) {
  for (LeadId id : {LeadId{0}, LeadId{7}, std::numeric_limits<LeadId>::max()}) {
    EXPECT_FALSE(store_->GetLead(id).ok());
    EXPECT_FALSE(store_->MarkLeadDoNotCall(id, "").ok());
    EXPECT_FALSE(store_->Requeue(id, "").ok());
    std::vector<LoggedEvent> events;
    EXPECT_FALSE(store_->History(id, &events).ok());
  }
  // Pending, calling and do-not-call leads cannot be requeued; do_not_call is absorbing.
  for (LeadId id = 1; id <= 6; ++id) {
    Result<LeadInfo> info = store_->GetLead(id);
    ASSERT_TRUE(info.ok());
    if (info->status == LeadStatus::kCompleted) continue;
    Result<LeadInfo> r = store_->Requeue(id, "");
    EXPECT_FALSE(r.ok()) << "lead " << id << " in " << LeadStatusName(info->status);
  }
  ExpectUnchanged();
}

// ---------------------------------------------------------------- the environment

// A second writer in another process: Status::Busy that says the database is
// in use (the child prints the status it got and exits 2).
TEST_F(HostileInputTest, SecondWriterProcessIsBusy) {
  std::string out;
  int rc = RunProgram({LEADLOG_CRASH_CHILD_PATH, "ops", dir_.Sub("db"), dir_.Sub("acks"), "buffered", "1", "64", "1"},
                      &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("busy:"), std::string::npos) << out;
  EXPECT_NE(out.find("in use"), std::string::npos) << out;
  EXPECT_EQ(out.find("LOCK"), std::string::npos) << "a RocksDB lock error leaked through:\n" << out;
  // A second writer in this process is refused the same way.
  std::unique_ptr<Store> second;
  Status s = Store::Open(Options{}, dir_.Sub("db"), &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  // A reader still works, and sees what the writer committed.
  Options ro;
  ro.read_only = true;
  ASSERT_TRUE(Store::Open(ro, dir_.Sub("db"), &second).ok());
  EXPECT_EQ(second->LastSeq(), before_.last_seq);
  ExpectError(second->Claim("c", 1, "d").status(), Status::Code::kReadOnly, "a write on a reader");
  second.reset();
  if (ToolBuilt()) {
#ifdef LEADLOG_TOOL_PATH
    rc = RunProgram({LEADLOG_TOOL_PATH, "--db", dir_.Sub("db"), "campaign", "create", "other"}, &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("in use"), std::string::npos) << out;
    rc = RunProgram({LEADLOG_TOOL_PATH, "--db", dir_.Sub("db"), "counts"}, &out);
    EXPECT_EQ(rc, 0) << "a read-only command while a writer holds the database:\n" << out;
#endif
  }
  ExpectUnchanged();
}

// The database holds personal data: its directory is its owner's only, whether
// Open creates it or finds it empty.
TEST(HostileEnvironmentTest, DatabaseDirectoryIsOwnerOnly) {
  ScratchDir dir("hostile-mode");
  mode_t old_umask = ::umask(022);  // a permissive umask must not matter
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(Options{}, dir.Sub("a/b/db"), &store).ok());
  struct stat st;
  ASSERT_EQ(::stat(dir.Sub("a/b/db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  store.reset();
  fs::create_directories(dir.Sub("precreated"));
  ::chmod(dir.Sub("precreated").c_str(), 0777);
  ASSERT_TRUE(Store::Open(Options{}, dir.Sub("precreated"), &store).ok());
  ASSERT_EQ(::stat(dir.Sub("precreated").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ::umask(old_umask);
}

// A directory where the database may not be created: a clear IOError. Root
// ignores permissions, so as root the attempt runs in a child process that
// has become `nobody`.
TEST(HostileEnvironmentTest, ReadOnlyDirectoryIsAClearIOError) {
  ScratchDir dir("hostile-ro");
  std::string parent = dir.Sub("readonly");
  fs::create_directories(parent);
  ::chmod(dir.path().c_str(), 0755);
  ASSERT_EQ(::chmod(parent.c_str(), 0555), 0);
  std::string probe = parent + "/probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT, 0600);
  if (fd < 0) {
    // Permissions apply to this process: test in-process.
    std::unique_ptr<Store> store;
    Status s = Store::Open(Options{}, parent + "/db", &store);
    EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
    EXPECT_NE(s.message().find(parent), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("ermission"), std::string::npos) << s.message();
    return;
  }
  ::close(fd);
  ::unlink(probe.c_str());
  // Root: run the open as nobody.
  std::string out;
  int rc = RunProgram({LEADLOG_CRASH_CHILD_PATH, "ops", parent + "/db", "/dev/null", "buffered", "1", "64", "1"}, &out,
                      65534);
  if (rc == -2) GTEST_SKIP() << "running as root, and cannot become nobody to make permissions count";
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("io error:"), std::string::npos) << out;
  EXPECT_NE(out.find(parent), std::string::npos) << out;
  EXPECT_NE(out.find("ermission denied"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(parent + "/db"));
}

// A database directory the writer may no longer write: refused with IOError,
// and nothing in it changes. (As root, checked as nobody on a database made
// readable to all.)
TEST(HostileEnvironmentTest, ReadOnlyDatabaseRefusesTheWriter) {
  if (::geteuid() != 0) {
    ScratchDir dir("hostile-rodb");
    std::string db = dir.Sub("db");
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(Options{}, db, &store).ok());
      ASSERT_TRUE(store->CreateCampaign("c", CampaignSettings{}).ok());
    }
    ::chmod(db.c_str(), 0500);
    std::unique_ptr<Store> store;
    Status s = Store::Open(Options{}, db, &store);
    ::chmod(db.c_str(), 0700);
    EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
    return;
  }
  ScratchDir dir("hostile-rodb");
  std::string db = dir.Sub("db");
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(Options{}, db, &store).ok());
    ASSERT_TRUE(store->CreateCampaign("c", CampaignSettings{}).ok());
  }
  // Readable by all, writable by its owner (root) only.
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(db.c_str(), 0755);
  for (const auto& e : fs::directory_iterator(db)) ::chmod(e.path().c_str(), 0644);
  std::string out;
  int rc = RunProgram({LEADLOG_CRASH_CHILD_PATH, "ops", db, "/dev/null", "buffered", "1", "64", "1"}, &out, 65534);
  if (rc == -2) GTEST_SKIP() << "running as root, and cannot become nobody to make permissions count";
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("io error:"), std::string::npos) << out;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(Options{}, db, &store).ok());
  EXPECT_EQ(store->LastSeq(), 1u);
}

// A full disk: a tmpfs of a few MiB (needs mount rights; skipped without
// them). The writer is a child process (leadlog_crash_child fill), so that
// whatever happens to it cannot take the test or the mount down with it.
// Writes must fail with a clear IOError, the store must refuse every further
// write (even once space is back) until it is reopened, and after a reopen
// everything acknowledged must be there and the audit clean.
TEST(HostileEnvironmentTest, FullDisk) {
  ScratchDir dir("hostile-full");
  std::string mnt = dir.Sub("mnt");
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=3m,mode=0755") != 0) {
    GTEST_SKIP() << "cannot mount a small tmpfs to fill (" << std::strerror(errno)
                 << "); the full-disk test needs mount rights";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  std::string db = mnt + "/db";
  std::string acks = dir.Sub("acks");
  std::string go = dir.Sub("go");
  std::string log = dir.Sub("child.log");
  pid_t pid = testing::Spawn({LEADLOG_CRASH_CHILD_PATH, "fill", db, acks, "synced", go}, log);
  // Wait for the failed write (or the child's end), then make room.
  int status = 0;
  bool ended = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!(ended = ::waitpid(pid, &status, WNOHANG) == pid) && ReadFileOrEmpty(acks).find("\nF ") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, "size=256m,mode=0755"), 0) << std::strerror(errno);
  testing::WriteFile(go, "go");
  if (!ended) status = testing::Reap(pid);
  std::string lines = ReadFileOrEmpty(acks);
  std::string child_log = ReadFileOrEmpty(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the writer on a full disk did not end cleanly ("
      << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                              : "exit " + std::to_string(WEXITSTATUS(status)))
      << "):\n"
      << child_log.substr(0, 2000);

  // What was acknowledged; how the failure looked; the write after it.
  Digest acked;
  std::vector<std::string> phones;
  std::string failure, after;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "A") {
      std::string n, op, hex;
      ls >> n >> op >> acked.seq >> hex;
      for (size_t i = 0; i < 32; ++i) acked.hash[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
      for (std::string fact; ls >> fact;) phones.push_back(fact.substr(1));
    } else if (kind == "F") {
      failure = line.substr(2);
    } else if (kind == "G") {
      after = line.substr(2);
    }
  }
  ASSERT_GT(acked.seq, 0u) << child_log;
  std::cerr << "full disk after " << phones.size() << " leads (seq " << acked.seq << "): " << failure << "\n";
  EXPECT_EQ(failure.rfind("io error: ", 0), 0u) << "the failed write: " << failure;
  EXPECT_EQ(after.rfind("refused ", 0), 0u) << "the write after the failure: " << after;

  // Reopen (there is room again): everything acknowledged is there.
  std::unique_ptr<Store> store;
  Status s = Store::Open(Options{}, db, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(store->LastSeq(), acked.seq);
  VerifyOptions vo;
  vo.check_digest = true;
  vo.digest = acked;
  AuditReport report;
  ASSERT_TRUE(store->Verify(vo, &report).ok());
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0].rule + ": " + report.problems[0].detail);
  for (size_t i = 0; i < phones.size(); i += 97) {
    Result<std::vector<LeadInfo>> leads = store->FindLeadsByPhone(phones[i]);
    ASSERT_TRUE(leads.ok());
    EXPECT_EQ(leads->size(), 1u) << phones[i];
  }
  EXPECT_TRUE(store->CreateCampaign("later", CampaignSettings{}).ok()) << "writes work again after a reopen";
}

}  // namespace
}  // namespace leadlog
