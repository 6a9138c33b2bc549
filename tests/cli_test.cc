// The `leadlog` tool, run as a separate process exactly as an operator would:
// every command, every exit code (0, 1, 2, 3), the JSON contract of
// DESIGN.md, live readers beside a writer, and tampered databases.
//
// Invariants of these tests:
//  - Each test has its own scratch database; nothing depends on test order.
//  - Time is always given with --now, so retries and leases are exact.
//  - stdout is parsed as JSON lines (one object per line, nothing else);
//    stderr is only matched for the words that matter.
#include <fcntl.h>
#include <poll.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "keys.h"
#include "leadlog/leadlog.h"
#include "test_util.h"
#include "tool_runner.h"

extern char** environ;

namespace leadlog {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunResult;
using testing::RunTool;
using testing::ScratchDir;

constexpr const char* kT0 = "2026-12-04T10:00:00Z";

class CliTest : public ::testing::Test {
 protected:
  std::string db() const { return dir_.Sub("db"); }

  // leadlog --db DB ARGS...
  RunResult Run(std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {"--db", db()});
    return RunTool(args, input);
  }
  // leadlog --db DB --json ARGS...
  RunResult J(std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {"--db", db(), "--json"});
    return RunTool(args, input);
  }
  // leadlog --db DB --json --now NOW ARGS...
  RunResult At(const std::string& now, std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {"--db", db(), "--json", "--now", now});
    return RunTool(args, input);
  }
  // Runs and expects exit 0.
  RunResult Ok(const std::string& now, std::vector<std::string> args, const std::string& input = "") const {
    RunResult r = At(now, std::move(args), input);
    EXPECT_EQ(r.code, 0) << r;
    return r;
  }

  json Digest() const {
    RunResult r = J({"digest"});
    EXPECT_EQ(r.code, 0) << r;
    return r.One();
  }

  // A campaign with one imported lead per phone, all at kT0.
  void Campaign(const std::string& name, const std::vector<std::string>& phones,
                std::vector<std::string> flags = {}) const {
    std::vector<std::string> args{"campaign", "create", name};
    args.insert(args.end(), flags.begin(), flags.end());
    Ok(kT0, args);
    std::string csv = "phone,first_name,last_name,email,plan\n";
    for (const std::string& p : phones) csv += p + ",Ann,Lee,ann@example.com,gold\n";
    RunResult r = Ok(kT0, {"import", name, "-"}, csv);
    EXPECT_EQ(r.One()["imported"], phones.size()) << r;
  }

  ScratchDir dir_{"cli"};
};

// ---------------------------------------------------------------------------
// version, help, usage errors (exit 2), missing database (exit 1)

TEST_F(CliTest, VersionNamesTheLibraries) {
  RunResult r = RunTool({"--version"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("leadlog "));
  EXPECT_THAT(r.out, HasSubstr("RocksDB 7."));
  EXPECT_THAT(r.out, HasSubstr("FlatBuffers 2."));
  EXPECT_THAT(r.out, HasSubstr("libphonenumber "));
  EXPECT_THAT(r.out, Not(HasSubstr("libphonenumber unknown")));
}

TEST_F(CliTest, EveryCommandsHelpHasAnExample) {
  const std::vector<std::vector<std::string>> commands = {
      {"campaign", "create"}, {"campaign", "update"}, {"campaign", "list"}, {"campaign", "show"}, {"import"},
      {"claim"},    {"report"},  {"expire"},  {"dnc", "add"},  {"dnc", "check"}, {"requeue"}, {"counts"},
      {"lead"},     {"history"}, {"dump"},    {"replay"},      {"verify"},       {"rebuild"}, {"digest"},
      {"simulate"}, {}};
  for (std::vector<std::string> c : commands) {
    c.push_back("--help");
    RunResult r = RunTool(c);
    EXPECT_EQ(r.code, 0) << fmt::format("{}", fmt::join(c, " ")) << r;
    EXPECT_THAT(r.out, HasSubstr("Example:")) << fmt::format("{}", fmt::join(c, " "));
  }
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  Campaign("c", {"+12015550123"});
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"bogus"},
      {"campaign"},
      {"campaign", "create"},
      {"claim", "c", "-n", "-1"},
      {"claim", "c", "-n", "0"},
      {"claim", "c", "-n", "99999999999"},
      {"claim", "c", "-n", "many"},
      {"report", "1", "1", "maybe"},
      {"report", "1", "1", "pending"},
      {"report", "one", "1", "completed"},
      {"report", "1", "0", "completed"},
      {"--now", "yesterday", "counts"},
      {"--now", "2026-13-45T99:00:00Z", "counts"},
      {"campaign", "create", "d", "--retry", "no_answer=soon"},
      {"campaign", "create", "d", "--retry", "completed=1h"},
      {"campaign", "create", "d", "--retry", "no_answer"},
      {"campaign", "create", "d", "--lease", "forever"},
      {"campaign", "create", "d", "--lease", "never"},
      {"campaign", "create", "d", "--max-attempts", "0"},
      {"campaign", "update", "c"},
      {"lead", "abc"},
      {"requeue", "-3"},
      {"dump", "--type", "nope"},
      {"dump", "--from", "5", "--to", "2"},
      {"replay", "--until-seq", "3", "--verify"},
      {"replay", "--until", "noon"},
      {"verify", "--digest", "12"},
      {"verify", "--digest", "1:zz"},
      {"import", "c", "x.csv", "--default-region", "USA"},
      {"simulate", "s", "--leads", "0"},
      {"counts", "--no-such-flag"},
  };
  json before = Digest();
  for (const std::vector<std::string>& args : bad) {
    RunResult r = Run(args);
    EXPECT_EQ(r.code, 2) << fmt::format("leadlog {}", fmt::join(args, " ")) << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr("leadlog: error: ")) << fmt::format("{}", fmt::join(args, " "));
    EXPECT_EQ(r.out, "") << fmt::format("{}", fmt::join(args, " "));
  }
  EXPECT_EQ(Digest(), before) << "a usage error wrote to the log";
  // The unknown outcome error lists the valid ones.
  RunResult r = Run({"report", "1", "1", "maybe"});
  EXPECT_THAT(r.err, HasSubstr("completed, no_answer, voicemail, failed"));
}

TEST_F(CliTest, ReadCommandOnMissingDatabaseExitsOne) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"counts"}, {"campaign", "list"}, {"lead", "1"}, {"dump"}, {"verify"}, {"digest"}, {"claim", "c"}}) {
    RunResult r = Run(args);
    EXPECT_EQ(r.code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("leadlog: error: no leadlog database at " + db()));
    EXPECT_THAT(r.err, HasSubstr("leadlog campaign create"));
  }
  EXPECT_FALSE(std::filesystem::exists(db())) << "a read (or a failed write) created the database";
}

TEST_F(CliTest, DatabaseDefaultsToTheEnvironment) {
  RunResult r = RunTool({"--json", "--now", kT0, "campaign", "create", "envy"}, "", {"LEADLOG_DB=" + db()});
  ASSERT_EQ(r.code, 0) << r;
  r = J({"campaign", "list"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.One()["campaign"], "envy");
}

// ---------------------------------------------------------------------------
// campaigns

TEST_F(CliTest, CampaignCreateListShowUpdate) {
  RunResult r = Ok(kT0, {"campaign", "create", "spring", "--max-attempts", "4", "--retry", "voicemail=2h", "--retry",
                         "failed=30m", "--lease", "10m"});
  json c = r.One();
  EXPECT_EQ(c["campaign"], "spring");
  EXPECT_EQ(c["max_attempts"], 4);
  EXPECT_EQ(c["retry"]["no_answer"], "1h");
  EXPECT_EQ(c["retry"]["voicemail"], "2h");
  EXPECT_EQ(c["retry"]["failed"], "30m");
  EXPECT_EQ(c["lease"], "10m");
  EXPECT_EQ(c["created"], kT0);

  r = At(kT0, {"campaign", "create", "spring"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("leadlog: error: "));
  EXPECT_THAT(r.err, HasSubstr("spring"));

  Ok(kT0, {"campaign", "create", "fall"});
  std::vector<json> list = J({"campaign", "list"}).Lines();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["campaign"], "spring");
  EXPECT_EQ(list[1]["campaign"], "fall");
  EXPECT_EQ(list[1]["retry"]["failed"], "never");

  r = Ok("2026-12-04T11:00:00Z", {"campaign", "update", "spring", "--retry", "failed=never"});
  c = r.One();
  EXPECT_EQ(c["retry"]["failed"], "never");
  EXPECT_EQ(c["retry"]["voicemail"], "2h") << "update must keep what the flags do not name";
  EXPECT_EQ(c["max_attempts"], 4);

  r = J({"campaign", "show", "spring"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.One()["retry"]["failed"], "never");
  EXPECT_EQ(J({"campaign", "show", "winter"}).code, 1);
  EXPECT_EQ(At(kT0, {"campaign", "update", "winter", "--lease", "5m"}).code, 1);

  // Human output: an aligned table with a header.
  r = Run({"campaign", "list"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("CAMPAIGN"));
  EXPECT_THAT(r.out, HasSubstr("spring"));

  std::vector<json> events = J({"dump", "--type", "campaign_updated"}).Lines();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["campaign"], "spring");
}

// ---------------------------------------------------------------------------
// import

TEST_F(CliTest, ImportWritesRejectsWithLineNumbersAndReasons) {
  Ok(kT0, {"campaign", "create", "spring"});
  const std::string csv =
      "phone,first_name,last_name,email,account\n"       // line 1
      "+12015550123,Ann,Lee,ann@example.com,A-1\n"        // 2
      "\"+12015550124\",\"Bob \"\"B\"\"\",Ray,,\"two\n"   // 3 (spans 3-4)
      "lines\"\n"                                          // 4
      "+1555,Bad,Number,,\n"                              // 5 invalid_phone
      ",No,Phone,,\n"                                     // 6 missing_phone
      "+12015550123,Dup,Licate,,\n"                       // 7 duplicate
      "+447400123456,Cat,Smith,not-an-email,\n"           // 8 invalid_email
      "+4915123456789,Jörg,Müller,j@example.de,X-9\n";    // 9
  testing::WriteFile(dir_.Sub("leads.csv"), csv);
  RunResult r = Ok(kT0, {"import", "spring", dir_.Sub("leads.csv"), "--rejects", dir_.Sub("rejects.csv")});
  json sum = r.One();
  EXPECT_EQ(sum["read"], 7);
  EXPECT_EQ(sum["imported"], 3);
  EXPECT_EQ(sum["rejected"], 4);
  EXPECT_EQ(sum["do_not_call"], 0);

  std::string rejects = testing::ReadFile(dir_.Sub("rejects.csv"));
  std::istringstream in(rejects);
  std::string line;
  std::vector<std::pair<std::string, std::string>> got;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "line,reason,detail");
  while (std::getline(in, line)) {
    size_t a = line.find(','), b = line.find(',', a + 1);
    got.emplace_back(line.substr(0, a), line.substr(a + 1, b - a - 1));
  }
  std::vector<std::pair<std::string, std::string>> want = {
      {"5", "invalid_phone"}, {"6", "missing_phone"}, {"7", "duplicate"}, {"8", "invalid_email"}};
  EXPECT_EQ(got, want) << rejects;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("rejects.csv.tmp-0")));

  // The quoted record kept its line break and quotes.
  json lead = J({"lead", "+12015550124"}).One();
  EXPECT_EQ(lead["first_name"], "Bob \"B\"");
  EXPECT_EQ(lead["custom"]["account"], "two\nlines");
  EXPECT_EQ(J({"lead", "3"}).One()["last_name"], "Müller");

  // Human output: a sentence, and the rejects listed when no file is asked for.
  r = Run({"--now", kT0, "import", "spring", dir_.Sub("leads.csv")});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("Imported 0 of 7 records"));
  EXPECT_THAT(r.out, HasSubstr("invalid_phone"));
}

TEST_F(CliTest, ImportFailuresExitOneAndWriteNothing) {
  Ok(kT0, {"campaign", "create", "spring"});
  json before = Digest();

  RunResult r = At(kT0, {"import", "spring", dir_.Sub("missing.csv")});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("leadlog: error: cannot read " + dir_.Sub("missing.csv")));

  testing::WriteFile(dir_.Sub("ok.csv"), "phone\n+12015550123\n");
  r = At(kT0, {"import", "autumn", dir_.Sub("ok.csv")});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("autumn"));
  EXPECT_THAT(r.err, HasSubstr("leadlog campaign create autumn"));

  testing::WriteFile(dir_.Sub("nophone.csv"), "name,email\nAnn,ann@example.com\n");
  r = At(kT0, {"import", "spring", dir_.Sub("nophone.csv")});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("phone"));

  r = At(kT0, {"import", "spring", dir_.Sub("ok.csv"), "--rejects", dir_.Sub("no/such/dir/rejects.csv")});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("nothing was imported"));

  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, ImportNationalNumbersWithDefaultRegion) {
  Ok(kT0, {"campaign", "create", "spring"});
  RunResult r = Ok(kT0, {"import", "spring", "-", "--default-region", "US"}, "phone\n(201) 555-0123\n");
  EXPECT_EQ(r.One()["imported"], 1);
  EXPECT_EQ(J({"lead", "1"}).One()["phone"], "+12015550123");
  r = Ok(kT0, {"import", "spring", "-"}, "phone\n(201) 555-0124\n");
  EXPECT_EQ(r.One()["rejected"], 1) << "a national number without a region must be rejected";
}

// ---------------------------------------------------------------------------
// the dialer: claim, report, retries, leases, dnc, requeue

TEST_F(CliTest, RetryWaitsForItsDelay) {
  Campaign("spring", {"+12015550123"}, {"--retry", "no_answer=1h"});
  std::vector<json> claimed = Ok(kT0, {"claim", "spring", "-n", "5", "--dialer", "d1"}).Lines();
  ASSERT_EQ(claimed.size(), 1u);
  const json& c = claimed[0];
  EXPECT_EQ(c["lead"], 1);
  EXPECT_EQ(c["attempt"], 1);
  EXPECT_EQ(c["phone"], "+12015550123");
  EXPECT_EQ(c["first_name"], "Ann");
  EXPECT_EQ(c["last_name"], "Lee");
  EXPECT_EQ(c["email"], "ann@example.com");
  EXPECT_EQ(c["custom"], json({{"plan", "gold"}}));
  EXPECT_EQ(c["campaign"], "spring");

  json s = Ok("2026-12-04T10:02:00Z", {"report", "1", "1", "no_answer", "--reason", "rang out"}).One();
  EXPECT_EQ(s["status"], "no_answer");
  EXPECT_EQ(s["attempts"], 1);
  EXPECT_EQ(s["due"], "2026-12-04T11:02:00Z");
  EXPECT_EQ(s["first_name"], "Ann") << "the new state is a whole lead object";

  EXPECT_EQ(Ok("2026-12-04T10:30:00Z", {"claim", "spring"}).out, "");
  EXPECT_EQ(Ok("2026-12-04T11:01:59Z", {"claim", "spring"}).out, "") << "claimed before its retry time";
  claimed = Ok("2026-12-04T11:02:00Z", {"claim", "spring"}).Lines();
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0]["attempt"], 2);

  RunResult human = Run({"--now", "2026-12-04T11:03:00Z", "claim", "spring"});
  EXPECT_EQ(human.code, 0) << human;
  EXPECT_THAT(human.out, HasSubstr("No lead of campaign spring is due"));
}

TEST_F(CliTest, ExpireReleasesClaimsWhoseLeaseRanOut) {
  Campaign("spring", {"+12015550123", "+12015550124"}, {"--lease", "10m"});
  std::vector<json> claimed = Ok(kT0, {"claim", "spring", "-n", "2"}).Lines();
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0]["lease_until"], "2026-12-04T10:10:00Z");
  Ok("2026-12-04T10:01:00Z", {"report", "2", "1", "completed"});

  EXPECT_EQ(Ok("2026-12-04T10:05:00Z", {"expire"}).out, "");
  std::vector<json> released = Ok("2026-12-04T10:11:00Z", {"expire"}).Lines();
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0]["lead"], 1);
  EXPECT_EQ(released[0]["status"], "no_answer");
  EXPECT_EQ(released[0]["attempts"], 1);
  EXPECT_EQ(released[0]["phone"], "+12015550123");

  std::vector<json> history = J({"history", "1"}).Lines();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back()["type"], "lease_expired");
  EXPECT_EQ(history.back()["lead"], 1);
  EXPECT_EQ(Ok("2026-12-04T10:12:00Z", {"expire"}).out, "") << "a lease expires once";
  EXPECT_EQ(At("2026-12-04T10:12:00Z", {"report", "1", "1", "completed"}).code, 1)
      << "a different outcome for an attempt that expired";
}

TEST_F(CliTest, ReportTwiceIsHarmlessButAConflictIsAnError) {
  Campaign("spring", {"+12015550123"});
  Ok(kT0, {"claim", "spring"});
  json first = Ok("2026-12-04T10:01:00Z", {"report", "1", "1", "completed"}).One();
  json before = Digest();
  json again = Ok("2026-12-04T10:02:00Z", {"report", "1", "1", "completed"}).One();
  EXPECT_EQ(again["status"], "completed");
  EXPECT_EQ(again["attempts"], first["attempts"]);
  EXPECT_EQ(Digest(), before) << "a repeated report wrote an event";

  RunResult r = At("2026-12-04T10:03:00Z", {"report", "1", "1", "no_answer"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("leadlog: error: "));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Digest(), before);

  r = At("2026-12-04T10:03:00Z", {"report", "1", "7", "completed"});
  EXPECT_EQ(r.code, 1) << r;
  r = At("2026-12-04T10:03:00Z", {"report", "99", "1", "completed"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(Digest(), before);
}

TEST_F(CliTest, RequeueStartsAFreshBudget) {
  Campaign("spring", {"+12015550123"}, {"--max-attempts", "1"});
  Ok(kT0, {"claim", "spring"});
  RunResult r = At(kT0, {"requeue", "1"});
  EXPECT_EQ(r.code, 1) << "requeue while calling: " << r;
  Ok("2026-12-04T10:01:00Z", {"report", "1", "1", "no_answer"});
  EXPECT_EQ(Ok("2026-12-04T12:00:00Z", {"claim", "spring"}).out, "") << "budget of 1 spent";

  json s = Ok("2026-12-04T12:00:00Z", {"requeue", "1", "--reason", "asked for a call back"}).One();
  EXPECT_EQ(s["status"], "pending");
  EXPECT_EQ(s["attempts_used"], 0);
  EXPECT_EQ(s["attempts"], 1);
  std::vector<json> claimed = Ok("2026-12-04T12:00:00Z", {"claim", "spring"}).Lines();
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0]["attempt"], 2) << "attempt numbers are never reused";
  std::vector<json> requeued = J({"dump", "--type", "lead_requeued"}).Lines();
  ASSERT_EQ(requeued.size(), 1u);
  EXPECT_EQ(requeued[0]["reason"], "asked for a call back");
}

TEST_F(CliTest, DoNotCallMovesLeadsInEveryCampaign) {
  Campaign("a", {"+12015550123", "+12015550124"});
  Campaign("b", {"+12015550123"});
  json d = Ok("2026-12-04T10:05:00Z", {"dnc", "add", "+12015550123", "--reason", "asked"}).One();
  EXPECT_EQ(d["phone"], "+12015550123");
  EXPECT_EQ(d["dnc"], true);
  EXPECT_EQ(d["moved"], json({1, 3}));

  std::vector<json> leads = J({"lead", "+12015550123"}).Lines();
  ASSERT_EQ(leads.size(), 2u);
  EXPECT_EQ(leads[0]["campaign"], "a");
  EXPECT_EQ(leads[1]["campaign"], "b");
  for (const json& l : leads) EXPECT_EQ(l["status"], "do_not_call");

  EXPECT_EQ(J({"dnc", "check", "+12015550123"}).One()["dnc"], true);
  EXPECT_EQ(J({"dnc", "check", "+12015550124"}).One()["dnc"], false);
  EXPECT_EQ(J({"dnc", "check", "(201) 555-0123", "--default-region", "US"}).One()["dnc"], true);

  // Claims hand out only the lead that is not listed.
  std::vector<json> claimed = Ok("2026-12-04T10:06:00Z", {"claim", "a", "-n", "10"}).Lines();
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0]["lead"], 2);
  EXPECT_EQ(Ok("2026-12-04T10:06:00Z", {"claim", "b", "-n", "10"}).out, "");

  // A new import of a listed number goes straight to do_not_call.
  Ok(kT0, {"campaign", "create", "c"});
  json sum = Ok("2026-12-04T10:07:00Z", {"import", "c", "-"}, "phone\n+12015550123\n+12015550124\n").One();
  EXPECT_EQ(sum["imported"], 2);
  EXPECT_EQ(sum["do_not_call"], 1);
  json counts = J({"counts", "c"}).One();
  EXPECT_EQ(counts["do_not_call"], 1);
  EXPECT_EQ(counts["pending"], 1);

  // Adding it again changes nothing; nothing moves a lead out of do_not_call.
  json before = Digest();
  d = Ok("2026-12-04T10:08:00Z", {"dnc", "add", "+12015550123"}).One();
  EXPECT_EQ(d["moved"], json::array());
  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(At("2026-12-04T10:08:00Z", {"requeue", "1"}).code, 1);
  RunResult r = At(kT0, {"dnc", "add", "12345"});
  EXPECT_EQ(r.code, 1) << r;
}

// ---------------------------------------------------------------------------
// inspection: counts, lead, history, dump, redaction

TEST_F(CliTest, CountsPerCampaign) {
  Campaign("a", {"+12015550123", "+12015550124"});
  Campaign("b", {"+12015550125"});
  Ok(kT0, {"claim", "a"});
  std::vector<json> all = J({"counts"}).Lines();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], json::parse(R"({"campaign":"a","pending":1,"calling":1,"completed":0,"no_answer":0,
                                   "voicemail":0,"failed":0,"do_not_call":0,"total":2})"));
  EXPECT_EQ(all[1]["total"], 1);
  EXPECT_EQ(J({"counts", "b"}).Lines().size(), 1u);
  RunResult r = J({"counts", "zzz"});
  EXPECT_EQ(r.code, 1) << r;
  r = Run({"counts"});
  EXPECT_THAT(r.out, HasSubstr("PENDING"));
  EXPECT_THAT(r.out, HasSubstr("(all)"));
}

TEST_F(CliTest, LeadAndHistoryByIdOrPhone) {
  Campaign("a", {"+12015550123"});
  Campaign("b", {"+12015550123"});
  Ok(kT0, {"claim", "a"});
  Ok("2026-12-04T10:01:00Z", {"report", "1", "1", "voicemail", "--reason", "left a message"});

  json lead = J({"lead", "1"}).One();
  for (const char* key : {"lead", "campaign", "phone", "status", "attempts", "first_name", "last_name", "email",
                          "custom"}) {
    EXPECT_TRUE(lead.contains(key)) << key;
  }
  EXPECT_EQ(lead["status"], "voicemail");
  EXPECT_EQ(lead["custom"], json({{"plan", "gold"}}));
  EXPECT_EQ(J({"lead", "+12015550123"}).Lines().size(), 2u);
  RunResult r = J({"lead", "+12015550199"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(J({"lead", "42"}).code, 1);

  std::vector<json> h = J({"history", "1"}).Lines();
  std::vector<std::string> types;
  for (const json& e : h) {
    EXPECT_EQ(e["lead"], 1);
    EXPECT_TRUE(e.contains("seq") && e.contains("ts"));
    types.push_back(e["type"]);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"lead_added", "lead_claimed", "outcome_reported"}));
  EXPECT_EQ(h[2]["outcome"], "voicemail");
  EXPECT_EQ(h[2]["reason"], "left a message");
  EXPECT_EQ(h[1]["ts"], kT0);

  // By phone: both leads' events, in log order.
  h = J({"history", "+12015550123"}).Lines();
  ASSERT_EQ(h.size(), 4u);
  for (size_t i = 1; i < h.size(); ++i) EXPECT_LT(h[i - 1]["seq"], h[i]["seq"]);
  std::set<int> leads;
  for (const json& e : h) leads.insert(e["lead"].get<int>());
  EXPECT_EQ(leads, (std::set<int>{1, 2}));

  r = Run({"history", "1"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("outcome_reported"));
  EXPECT_THAT(r.out, HasSubstr("2026-12-04 10:01:00 UTC"));
}

TEST_F(CliTest, RedactMasksPersonalData) {
  Campaign("a", {"+12015550123", "+447400123456"});
  json lead = J({"lead", "1", "--redact"}).One();
  EXPECT_EQ(lead["phone"], "+1********23");
  EXPECT_EQ(lead["first_name"], "***");
  EXPECT_EQ(lead["last_name"], "***");
  EXPECT_EQ(lead["email"], "***");
  EXPECT_EQ(lead["custom"], json({{"plan", "***"}}));
  EXPECT_EQ(J({"lead", "2", "--redact"}).One()["phone"], "+44********56");

  json added = J({"history", "1", "--redact"}).Lines().at(0);
  EXPECT_EQ(added["phone"], "+1********23");
  EXPECT_EQ(added["first_name"], "***");

  Ok("2026-12-04T10:01:00Z", {"dnc", "add", "+12015550123"});
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"dump", "--redact"}, {"--json", "dump", "--redact"}, {"history", "+12015550123", "--redact"},
           {"lead", "+12015550123", "--redact"}}) {
    RunResult r = Run(args);
    ASSERT_EQ(r.code, 0) << r;
    EXPECT_THAT(r.out, Not(HasSubstr("2015550123"))) << fmt::format("{}", fmt::join(args, " "));
    EXPECT_THAT(r.out, Not(HasSubstr("7400123456")));
    EXPECT_THAT(r.out, Not(HasSubstr("Ann")));
    EXPECT_THAT(r.out, Not(HasSubstr("ann@example.com")));
    EXPECT_THAT(r.out, Not(HasSubstr("gold")));
  }
  // Without --redact everything is there.
  EXPECT_THAT(J({"dump"}).out, HasSubstr("+12015550123"));
}

TEST_F(CliTest, DumpFilters) {
  Campaign("a", {"+12015550123", "+12015550124"});
  Campaign("b", {"+12015550125"});
  Ok(kT0, {"claim", "a", "-n", "2"});
  Ok("2026-12-04T10:01:00Z", {"report", "2", "1", "failed"});

  std::vector<json> all = J({"dump"}).Lines();
  ASSERT_EQ(all.size(), 8u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]["seq"], i + 1) << "sequence numbers are dense";
    EXPECT_TRUE(all[i].contains("ts") && all[i].contains("type"));
  }
  EXPECT_EQ(all[0]["type"], "campaign_created");
  EXPECT_FALSE(all[0].contains("lead"));

  std::vector<json> claims = J({"dump", "--type", "lead_claimed"}).Lines();
  ASSERT_EQ(claims.size(), 2u);
  for (const json& e : claims) {
    EXPECT_EQ(e["type"], "lead_claimed");
    EXPECT_EQ(e["dialer"], "leadlog-cli");
  }
  for (const json& e : J({"dump", "--lead", "2"}).Lines()) EXPECT_EQ(e["lead"], 2);
  EXPECT_EQ(J({"dump", "--lead", "2"}).Lines().size(), 3u);
  std::vector<json> b = J({"dump", "--campaign", "b"}).Lines();
  ASSERT_EQ(b.size(), 2u);
  for (const json& e : b) EXPECT_EQ(e["campaign"], "b");
  std::vector<json> range = J({"dump", "--from", "2", "--to", "3"}).Lines();
  ASSERT_EQ(range.size(), 2u);
  EXPECT_EQ(range[0]["seq"], 2);
  EXPECT_EQ(range[1]["seq"], 3);
  EXPECT_EQ(J({"dump", "--from", "100"}).out, "");
  EXPECT_EQ(J({"dump", "--campaign", "a", "--type", "outcome_reported"}).One()["outcome"], "failed");
  RunResult r = J({"dump", "--campaign", "zzz"});
  EXPECT_EQ(r.code, 1) << r;

  r = Run({"dump", "--to", "3"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("SEQ"));
  EXPECT_THAT(r.out, HasSubstr("lead_added"));
}

// ---------------------------------------------------------------------------
// replay, digest, verify, rebuild

TEST_F(CliTest, ReplayToAPastPoint) {
  Campaign("a", {"+12015550123", "+12015550124"});  // seq 1..3
  Ok("2026-12-04T11:00:00Z", {"claim", "a"});         // seq 4
  Ok("2026-12-04T11:01:00Z", {"report", "1", "1", "completed"});  // seq 5

  json then = J({"replay", "--until-seq", "3"}).One();
  EXPECT_EQ(then["pending"], 2);
  EXPECT_EQ(then["calling"], 0);
  json mid = J({"replay", "--until-seq", "4"}).One();
  EXPECT_EQ(mid["calling"], 1);
  json by_time = J({"replay", "--until", "2026-12-04T10:30:00Z"}).One();
  EXPECT_EQ(by_time["pending"], 2);
  json now = J({"replay"}).One();
  EXPECT_EQ(now["completed"], 1);
  EXPECT_EQ(now, J({"counts", "a"}).One());
  EXPECT_EQ(J({"replay", "--until-seq", "0"}).code, 2);
  EXPECT_EQ(J({"replay", "--until", "2026-12-01T00:00:00Z"}).out, "") << "no campaign existed yet";

  RunResult r = J({"replay", "--verify"});
  EXPECT_EQ(r.code, 0) << r;
  r = Run({"replay", "--verify"});
  EXPECT_THAT(r.out, HasSubstr("agree"));
}

TEST_F(CliTest, DigestAndVerify) {
  Campaign("a", {"+12015550123"});
  Ok(kT0, {"claim", "a"});
  json d = Digest();
  EXPECT_EQ(d["seq"], 3);
  std::string hash = d["hash"];
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);

  RunResult r = J({"verify"});
  EXPECT_EQ(r.code, 0) << r;
  json v = r.One();
  EXPECT_EQ(v["ok"], true);
  EXPECT_EQ(v["events"], 3);
  EXPECT_EQ(v["problems"], json::array());

  std::string recorded = fmt::format("3:{}", hash);
  Ok("2026-12-04T10:01:00Z", {"report", "1", "1", "completed"});
  r = J({"verify", "--digest", recorded});
  EXPECT_EQ(r.code, 0) << "the log grew but is the same up to seq 3: " << r;

  std::string wrong = recorded;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  r = J({"verify", "--digest", wrong});
  EXPECT_EQ(r.code, 3) << r;
  v = r.One();
  EXPECT_EQ(v["ok"], false);
  ASSERT_FALSE(v["problems"].empty());
  for (const json& p : v["problems"]) {
    EXPECT_TRUE(p.contains("seq") && p.contains("lead") && p.contains("rule") && p.contains("detail")) << p;
  }

  r = Run({"verify"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("PASSED"));
  r = Run({"verify", "--digest", wrong});
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_THAT(r.out, HasSubstr("FAILED"));

  r = Run({"digest"});
  EXPECT_THAT(r.out, HasSubstr("verify --digest 4:"));
}

TEST_F(CliTest, RebuildSummarizes) {
  Campaign("a", {"+12015550123", "+12015550124"});
  RunResult r = J({"rebuild"});
  ASSERT_EQ(r.code, 0) << r;
  json s = r.One();
  EXPECT_EQ(s["events"], 3);
  EXPECT_EQ(s["campaigns"], 1);
  EXPECT_EQ(s["leads"], 2);
  EXPECT_EQ(J({"verify"}).code, 0);
}

// Opens the database's RocksDB directly (no leadlog in between), with every
// column family, to damage it the way a disk or an attacker would.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    s = rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    for (size_t i = 0; i < names.size() && i < handles_.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) { return by_name_.at(name); }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

TEST_F(CliTest, VerifyCatchesAFlippedByteInTheLog) {
  Campaign("a", {"+12015550123", "+12015550124"});
  ASSERT_EQ(J({"verify"}).code, 0);
  {
    RawDb raw(db());
    std::string value;
    auto key = keys::Seq(2);
    ASSERT_TRUE(raw.db()->Get(rocksdb::ReadOptions(), raw.cf(keys::kLogCF), key.view(), &value).ok());
    value[value.size() / 2] ^= 0x01;
    ASSERT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.cf(keys::kLogCF), key.view(), value).ok());
  }
  RunResult r = J({"verify"});
  EXPECT_EQ(r.code, 3) << r;
  if (r.code == 3) {
    json v = r.One();
    EXPECT_EQ(v["ok"], false);
    ASSERT_FALSE(v["problems"].empty());
    EXPECT_EQ(v["problems"][0]["seq"], 2) << v;
  }
  r = Run({"verify"});
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_THAT(r.out, HasSubstr("FAILED"));
  r = J({"replay", "--verify"});
  EXPECT_EQ(r.code, 3) << r;
}

TEST_F(CliTest, VerifyWithADigestCatchesADroppedTail) {
  Campaign("a", {"+12015550123", "+12015550124"});
  json d = Digest();
  std::string recorded = fmt::format("{}:{}", d["seq"].get<uint64_t>(), d["hash"].get<std::string>());
  {
    RawDb raw(db());
    auto key = keys::Seq(d["seq"].get<uint64_t>());
    ASSERT_TRUE(raw.db()->Delete(rocksdb::WriteOptions(), raw.cf(keys::kLogCF), key.view()).ok());
  }
  RunResult r = J({"verify", "--digest", recorded});
  EXPECT_EQ(r.code, 3) << r;
}

TEST_F(CliTest, VerifyReportsADamagedViewAndRebuildRepairsIt) {
  Campaign("a", {"+12015550123", "+12015550124"});
  {
    RawDb raw(db());
    auto key = keys::Lead(1);
    ASSERT_TRUE(raw.db()->Delete(rocksdb::WriteOptions(), raw.cf(keys::kLeadsCF), key.view()).ok());
  }
  RunResult r = J({"verify"});
  EXPECT_EQ(r.code, 3) << r;
  r = J({"replay", "--verify"});
  EXPECT_EQ(r.code, 3) << r;
  r = J({"rebuild"});
  EXPECT_EQ(r.code, 0) << r;
  r = J({"verify"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(J({"counts", "a"}).One()["pending"], 2);
}

// ---------------------------------------------------------------------------
// live readers beside a writer

TEST_F(CliTest, ASecondWriterIsTurnedAwayWhileReadersWork) {
  Ok(kT0, {"campaign", "create", "cli"});
  Options options;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(options, db(), &store).ok());
  ASSERT_TRUE(store->CreateCampaign("live", CampaignSettings{}).ok());
  LeadInput in;
  in.phone = "+12015550123";
  ASSERT_TRUE(store->AddLead("live", in).ok());

  json before = J({"digest"}).One();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"campaign", "create", "other"}, {"claim", "live"}, {"expire"}, {"rebuild"}}) {
    RunResult r = At(kT0, args);
    EXPECT_EQ(r.code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("leadlog: error: the database " + db() +
                                 " is in use by another process (a dialer?); read-only commands (counts, lead, "
                                 "history, dump, verify...) still work"));
  }
  EXPECT_EQ(J({"digest"}).One(), before);

  RunResult r = J({"counts", "live"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.One()["pending"], 1);
  EXPECT_EQ(J({"lead", "1"}).One()["phone"], "+12015550123");
  EXPECT_EQ(J({"history", "+12015550123"}).Lines().size(), 1u);
  EXPECT_EQ(J({"verify"}).code, 0);
  store.reset();
  EXPECT_EQ(At(kT0, {"campaign", "create", "other"}).code, 0) << "the database is free again";
}

TEST_F(CliTest, ReadersSeeAConsistentGrowingState) {
  Ok(kT0, {"campaign", "create", "w"});
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(Options{}, db(), &store).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> added{0};
  std::thread writer([&] {
    for (int i = 0; i < 2000 && !stop; ++i) {
      LeadInput in;
      in.phone = fmt::format("+1201555{:04d}", i);
      if (store->AddLead("w", in).ok()) ++added;
    }
  });
  uint64_t last_total = 0;
  for (int round = 0; round < 5; ++round) {
    RunResult r = J({"counts", "w"});
    ASSERT_EQ(r.code, 0) << r;
    uint64_t total = r.One()["total"];
    EXPECT_GE(total, last_total) << "a reader saw the state shrink";
    last_total = total;
    std::vector<json> events = J({"dump"}).Lines();
    for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i]["seq"], i + 1) << "a gap in what a reader saw";
    // Every lead the reader's counts include is in its log too.
    EXPECT_GE(events.size(), total + 1);
    if (total > 0) {
      EXPECT_EQ(J({"history", "1"}).Lines().size(), 1u);
    }
  }
  stop = true;
  writer.join();
  store.reset();
  EXPECT_EQ(J({"counts", "w"}).One()["total"], added.load());
}

// ---------------------------------------------------------------------------
// simulate

TEST_F(CliTest, SimulateWorksACampaignToTheEnd) {
  RunResult r = At(kT0, {"simulate", "demo", "--leads", "300", "--dialers", "3", "--seed", "5"});
  ASSERT_EQ(r.code, 0) << r;
  json c = r.One();
  EXPECT_EQ(c["campaign"], "demo");
  EXPECT_EQ(c["total"], 300);
  EXPECT_EQ(c["pending"], 0);
  EXPECT_EQ(c["calling"], 0);
  EXPECT_GT(c["completed"].get<int>(), 0);
  EXPECT_EQ(c["completed"].get<int>() + c["no_answer"].get<int>() + c["voicemail"].get<int>() +
                c["failed"].get<int>() + c["do_not_call"].get<int>(),
            300);
  EXPECT_EQ(J({"counts", "demo"}).One()["total"], 300);
  r = J({"verify"});
  EXPECT_EQ(r.code, 0) << r;

  // Every generated number is valid E.164 and unique.
  std::set<std::string> phones;
  for (const json& e : J({"dump", "--type", "lead_added"}).Lines()) {
    std::string p = e["phone"];
    ASSERT_TRUE(NormalizePhone(p).ok()) << p;
    EXPECT_TRUE(phones.insert(p).second) << p;
  }
  EXPECT_EQ(phones.size(), 300u);
}

TEST_F(CliTest, SimulateWithOneDialerIsDeterministic) {
  ScratchDir other("cli2");
  auto run = [&](const std::string& path) {
    RunResult r = RunTool({"--db", path, "--json", "--now", kT0, "simulate", "d", "--leads", "100", "--dialers", "1",
                           "--seed", "9"});
    EXPECT_EQ(r.code, 0) << r;
    r = RunTool({"--db", path, "--json", "digest"});
    EXPECT_EQ(r.code, 0) << r;
    return r.One();
  };
  EXPECT_EQ(run(db()), run(other.Sub("db")));
}

}  // namespace
}  // namespace leadlog
