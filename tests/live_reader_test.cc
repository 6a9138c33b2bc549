// Live readers beside a writer in another process: a dialer-like child
// process keeps adding, claiming, reporting, expiring, requeueing and marking
// do-not-call while the test runs the built `leadlog` tool's read-only
// commands (`counts`, `dump`, `history`) against the same database, as an
// operator would during a campaign.
//
// What every reader run must show:
//  - exit 0, one JSON object per line;
//  - counts: each campaign's status counts add up to its total, and no total
//    ever goes down from one run to the next;
//  - dump: sequence numbers dense from 1, never fewer records than the run
//    before, and the run before's records exactly a prefix of this one's
//    (nobody ever sees the history change);
//  - counts and dump agree: a campaign's total is between the leads added in
//    the dump taken before and the dump taken after;
//  - history of a lead: non-empty, oldest first, every event that lead's,
//    starting with lead_added, and up to the dump's newest record exactly the
//    dump's events of that lead.
// And a write command while the writer lives exits 1 saying the database is
// in use and that read-only commands still work. Once the writer is gone the
// final dump holds every type of event and, replayed by hand, gives exactly
// the final counts; `verify` passes, and a write command works again.
//
// The writer is this test binary itself, forked and exec'd with a filter
// that runs only LiveReaderWriterChild.DISABLED_Write (never run otherwise).
// It is exec'd rather than merely forked because the test process may
// already run RocksDB's background threads, which a forked child would not
// have. The child stops when the test creates a stop file, when the test
// process dies (PR_SET_PDEATHSIG), or after kWriterDeadline at the latest.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "leadlog/leadlog.h"
#include "test_util.h"
#include "tool_runner.h"

extern char** environ;

namespace leadlog {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing::RunResult;
using testing::RunTool;
using testing::ScratchDir;

constexpr const char* kEnvDb = "LEADLOG_LIVE_WRITER_DB";
constexpr const char* kEnvDir = "LEADLOG_LIVE_WRITER_DIR";
constexpr auto kWriterDeadline = std::chrono::seconds(60);
// How long the test keeps reading while the writer writes.
constexpr auto kLiveReading = std::chrono::seconds(7);

// ---------------------------------------------------------------------------
// The writer (child process)

// The k-th phone of the run: +1 212 EXCHANGE LINE, unique and valid.
std::string Phone(uint64_t k) {
  static const std::vector<int> exchanges = [] {
    std::vector<int> v;
    for (int e = 200; e <= 999; ++e) {
      if (e % 100 != 11 && e != 555) v.push_back(e);
    }
    return v;
  }();
  return fmt::format("+1212{}{:04d}", exchanges[(k / 10000) % exchanges.size()], k % 10000);
}

// Writes, as a dialer would, until `stop` exists. Returns "" or what failed.
std::string WriteUntilStopped(const std::string& db, const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string stop = dir + "/writer.stop";
  const pid_t parent = ::getppid();
  const auto deadline = Clock::now() + kWriterDeadline;

  testing::ManualClock clock;
  Options options;
  options.clock = clock.AsFunction();
  options.checkpoint_every_events = 1500;  // readers load live checkpoints and replay the tail
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(options, db, &store); !s.ok()) return "open: " + s.ToString();

  CampaignSettings alpha;
  alpha.max_attempts = 3;
  alpha.retry_no_answer = 2 * kMinute;
  alpha.retry_voicemail = 5 * kMinute;
  alpha.retry_failed = kNever;
  alpha.lease = 1 * kMinute;
  CampaignSettings beta;
  beta.retry_no_answer = 3 * kMinute;
  beta.lease = 2 * kMinute;
  if (auto r = store->CreateCampaign("alpha", alpha); !r.ok()) return "create alpha: " + r.status().ToString();
  if (auto r = store->CreateCampaign("beta", beta); !r.ok()) return "create beta: " + r.status().ToString();

  std::map<std::string, uint64_t> added;  // campaign -> leads added
  std::vector<std::string> phones{""};    // by lead id
  std::vector<LeadId> completed;          // candidates for requeue
  uint64_t next_phone = 0, claimed = 0;

  auto add = [&](const std::string& campaign, int n) -> std::string {
    std::vector<LeadInput> leads;
    for (int i = 0; i < n; ++i) {
      LeadInput in;
      in.phone = Phone(next_phone++);
      in.first_name = "Ann";
      in.last_name = fmt::format("Lee{}", next_phone);
      in.email = fmt::format("ann{}@example.com", next_phone);
      in.custom = {{"plan", next_phone % 2 == 0 ? "gold" : "basic"}};
      leads.push_back(std::move(in));
    }
    Result<AddLeadsResult> r = store->AddLeads(campaign, leads);
    if (!r.ok()) return "add: " + r.status().ToString();
    if (r->imported != leads.size()) return fmt::format("add: {} of {} imported", r->imported, leads.size());
    for (size_t i = 0; i < leads.size(); ++i) {
      if (r->ids[i] != phones.size()) return fmt::format("add: lead id {} after {}", r->ids[i], phones.size() - 1);
      phones.push_back(leads[i].phone);
    }
    added[campaign] += leads.size();
    return "";
  };
  auto claim_and_report = [&](const std::string& campaign, size_t n, const std::string& dialer) -> std::string {
    Result<std::vector<ClaimedLead>> r = store->Claim(campaign, n, dialer);
    if (!r.ok()) return "claim: " + r.status().ToString();
    for (const ClaimedLead& c : *r) {
      uint64_t k = claimed++;
      if (k % 10 == 9) continue;  // the call is lost: only expire ends it
      static constexpr LeadStatus kOutcomes[] = {LeadStatus::kCompleted, LeadStatus::kNoAnswer,
                                                 LeadStatus::kVoicemail, LeadStatus::kFailed};
      LeadStatus outcome = kOutcomes[k % 4];
      Result<LeadInfo> rep = store->Report(c.lead, c.attempt, outcome, "call ended");
      if (!rep.ok()) return fmt::format("report {} {}: {}", c.lead, c.attempt, rep.status().ToString());
      if (outcome == LeadStatus::kCompleted) completed.push_back(c.lead);
    }
    return "";
  };

  if (std::string e = add("alpha", 5); !e.empty()) return e;
  if (std::string e = add("beta", 3); !e.empty()) return e;
  {
    std::ofstream ready(dir + "/writer.ready.tmp");
    ready << ::getpid() << "\n";
  }
  fs::rename(dir + "/writer.ready.tmp", dir + "/writer.ready");

  for (uint64_t i = 1;; ++i) {
    // The first 100 iterations always run: they write every type of event.
    if (::getppid() != parent || Clock::now() > deadline || (i > 100 && fs::exists(stop))) break;
    clock.Advance(5 * kSecond);
    std::string e = add("alpha", 3);
    if (e.empty() && i % 2 == 0) e = add("beta", 1);
    if (e.empty()) e = claim_and_report("alpha", 3, "dialer-a");
    if (e.empty()) e = claim_and_report("beta", 2, "dialer-b");
    if (!e.empty()) return fmt::format("iteration {}: {}", i, e);
    if (i % 8 == 0) {
      if (auto r = store->Expire(); !r.ok()) return "expire: " + r.status().ToString();
    }
    if (i % 25 == 0) {
      // Someone asks not to be called again: a phone added a while ago.
      const std::string& phone = phones[1 + (i * 7) % (phones.size() - 1)];
      if (auto r = store->AddDoNotCall(phone, "asked on the call"); !r.ok()) return "dnc: " + r.status().ToString();
    }
    if (i % 30 == 0 && !completed.empty()) {
      LeadId lead = completed.back();
      completed.pop_back();
      Result<LeadInfo> info = store->GetLead(lead);
      if (!info.ok()) return "get: " + info.status().ToString();
      if (info->status == LeadStatus::kCompleted) {
        if (auto r = store->Requeue(lead, "asked to be called back"); !r.ok()) return "requeue: " + r.status().ToString();
      }
    }
    if (i % 100 == 0) {
      beta.max_attempts = beta.max_attempts == 3 ? 4 : 3;
      if (auto r = store->UpdateCampaign("beta", beta); !r.ok()) return "update: " + r.status().ToString();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }

  // Like a dialer fleet's supervisor at the end of the day: release the lost
  // calls, so that the audit finds every lease ended.
  clock.Advance(std::max(alpha.lease, beta.lease) + kSecond);
  if (auto r = store->Expire(); !r.ok()) return "final expire: " + r.status().ToString();
  SeqNo last_seq = store->LastSeq();
  store.reset();  // the final checkpoint; the database is free once we exit
  std::ofstream stats(dir + "/writer.stats");
  stats << "last_seq " << last_seq << "\n";
  for (const auto& [campaign, n] : added) stats << campaign << " " << n << "\n";
  return stats ? "" : "cannot write the stats file";
}

// Runs only in the child the test starts (see the top of this file).
TEST(LiveReaderWriterChild, DISABLED_Write) {
  const char* db = std::getenv(kEnvDb);
  const char* dir = std::getenv(kEnvDir);
  if (db == nullptr || dir == nullptr) GTEST_SKIP() << "the writer of LiveReader tests, started by them";
  std::string error = WriteUntilStopped(db, dir);
  EXPECT_EQ(error, "");
}

// The writer child, seen from the test. Its destructor stops and reaps it
// whatever happened to the test.
class WriterProcess {
 public:
  explicit WriterProcess(const ScratchDir& dir)
      : dir_(dir.path()), db_(dir.Sub("db")), log_(dir.Sub("writer.log")) {
    std::vector<std::string> args{"/proc/self/exe", "--gtest_filter=LiveReaderWriterChild.DISABLED_Write",
                                  "--gtest_also_run_disabled_tests"};
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      // GTEST_* (shards, output files, filters) are the parent run's business.
      if (std::strncmp(*e, "GTEST_", 6) != 0 && std::strncmp(*e, "LEADLOG_", 8) != 0) env.emplace_back(*e);
    }
    env.push_back(fmt::format("{}={}", kEnvDb, db_));
    env.push_back(fmt::format("{}={}", kEnvDir, dir_));
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      ADD_FAILURE() << "cannot create " << log_ << ": " << std::strerror(errno);
      return;
    }
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(fd);
    if (pid_ < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  }

  ~WriterProcess() {
    if (pid_ > 0) Stop();
  }

  const std::string& db() const { return db_; }
  bool running() const { return pid_ > 0; }

  // Waits until the writer has created the database and its campaigns.
  bool WaitReady(std::chrono::seconds timeout) {
    auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (std::filesystem::exists(dir_ + "/writer.ready")) return true;
      int status = 0;
      if (pid_ <= 0 || ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_ = Describe(status);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Asks the writer to stop and waits for it: its exit status, as text
  // ("exit 0" when all went well).
  std::string Stop() {
    if (pid_ <= 0) return exit_;
    std::ofstream(dir_ + "/writer.stop") << "stop\n";
    int status = 0;
    auto until = Clock::now() + std::chrono::seconds(20);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > until) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    exit_ = Describe(status);
    return exit_;
  }

  std::string Log() const {
    std::ifstream in(log_);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // The writer's own account, once it has stopped: "last_seq" and the leads
  // it added per campaign.
  std::map<std::string, uint64_t> Stats() const {
    std::map<std::string, uint64_t> stats;
    std::ifstream in(dir_ + "/writer.stats");
    std::string key;
    uint64_t value;
    while (in >> key >> value) stats[key] = value;
    return stats;
  }

 private:
  static std::string Describe(int status) {
    if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
    return "unknown";
  }

  std::string dir_, db_, log_;
  pid_t pid_ = -1;
  std::string exit_ = "not started";
};

// ---------------------------------------------------------------------------
// What the readers saw

constexpr const char* kStatuses[] = {"pending", "calling", "completed", "no_answer", "voicemail", "failed",
                                     "do_not_call"};

// `leadlog --json counts`, checked: campaign -> total.
std::map<std::string, uint64_t> CheckedCounts(const RunResult& r) {
  std::map<std::string, uint64_t> totals;
  for (const json& c : r.Lines()) {
    std::string name = c.value("campaign", "");
    uint64_t sum = 0;
    for (const char* s : kStatuses) {
      EXPECT_TRUE(c.contains(s) && c[s].is_number_unsigned()) << s << " missing in " << c;
      if (c.contains(s) && c[s].is_number_unsigned()) sum += c[s].get<uint64_t>();
    }
    uint64_t total = c.value("total", uint64_t{0});
    EXPECT_EQ(sum, total) << "the status counts of " << name << " do not add up to its total: " << c;
    EXPECT_EQ(totals.count(name), 0u) << "campaign twice: " << name;
    totals[name] = total;
  }
  return totals;
}

// Leads added per campaign in a dump.
std::map<std::string, uint64_t> LeadsAdded(const std::vector<json>& dump) {
  std::map<std::string, uint64_t> added;
  for (const json& e : dump) {
    if (e["type"] == "lead_added") ++added[e.value("campaign", "")];
  }
  return added;
}

// The status counts per campaign, replayed by hand from a dump: an
// independent reading of the log to hold the tool's counts against.
std::map<std::string, std::map<std::string, uint64_t>> ReplayByHand(const std::vector<json>& dump) {
  std::map<uint64_t, std::pair<std::string, std::string>> leads;  // lead -> campaign, status
  std::map<std::string, std::set<uint64_t>> by_phone;
  for (const json& e : dump) {
    std::string type = e["type"];
    uint64_t lead = e.value("lead", uint64_t{0});
    auto set = [&](uint64_t id, const std::string& status, bool unless_dnc) {
      auto it = leads.find(id);
      if (it == leads.end()) {
        ADD_FAILURE() << "an event of a lead never added: " << e;
        return;
      }
      if (unless_dnc && it->second.second == "do_not_call") return;
      it->second.second = status;
    };
    if (type == "lead_added") {
      leads[lead] = {e["campaign"].get<std::string>(), e["status"].get<std::string>()};
      by_phone[e["phone"].get<std::string>()].insert(lead);
    } else if (type == "lead_claimed") {
      set(lead, "calling", false);
    } else if (type == "outcome_reported") {
      set(lead, e["outcome"].get<std::string>(), true);
    } else if (type == "lease_expired") {
      set(lead, "no_answer", true);
    } else if (type == "phone_marked_do_not_call") {
      for (uint64_t id : by_phone[e["phone"].get<std::string>()]) set(id, "do_not_call", false);
    } else if (type == "lead_marked_do_not_call") {
      set(lead, "do_not_call", false);
    } else if (type == "lead_requeued") {
      set(lead, "pending", false);
    }
  }
  std::map<std::string, std::map<std::string, uint64_t>> counts;
  for (const auto& [id, cs] : leads) {
    ++counts[cs.first][cs.second];
    ++counts[cs.first]["total"];
  }
  return counts;
}

class LiveReader : public ::testing::Test {
 protected:
  RunResult Read(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--db", writer_.db(), "--json"});
    return RunTool(args);
  }

  ScratchDir dir_{"live"};
  WriterProcess writer_{dir_};
};

TEST_F(LiveReader, ReadersSeeAConsistentGrowingStateWhileAnotherProcessWrites) {
  ASSERT_TRUE(writer_.running());
  ASSERT_TRUE(writer_.WaitReady(std::chrono::seconds(20))) << writer_.Stop() << "\n" << writer_.Log();

  std::map<std::string, uint64_t> last_totals;
  uint64_t last_grand_total = 0, first_grand_total = 0;
  std::vector<json> last_dump;
  size_t first_dump_size = 0;
  int rounds = 0;
  bool write_refused = false;
  const auto start = Clock::now();
  while (rounds < 4 || (Clock::now() - start < kLiveReading && rounds < 60)) {
    ++rounds;
    SCOPED_TRACE(fmt::format("round {}", rounds));

    // counts
    RunResult r = Read({"counts"});
    ASSERT_EQ(r.code, 0) << r;
    std::map<std::string, uint64_t> totals = CheckedCounts(r);
    ASSERT_EQ(totals.count("alpha"), 1u) << r;
    ASSERT_EQ(totals.count("beta"), 1u) << r;
    uint64_t grand_total = 0;
    for (const auto& [name, total] : totals) {
      grand_total += total;
      EXPECT_GE(total, last_totals[name]) << "a reader saw campaign " << name << " shrink";
    }
    EXPECT_GE(grand_total, last_grand_total) << "a reader saw the total shrink";
    // The dump of the round before was taken before these counts.
    for (const auto& [name, n] : LeadsAdded(last_dump)) {
      EXPECT_GE(totals[name], n) << "counts show fewer leads of " << name << " than an earlier dump added";
    }
    if (rounds == 1) first_grand_total = grand_total;
    last_totals = totals;
    last_grand_total = grand_total;

    // dump
    r = Read({"dump"});
    ASSERT_EQ(r.code, 0) << r;
    std::vector<json> dump = r.Lines();
    ASSERT_GE(dump.size(), last_dump.size()) << "a reader saw the log shrink";
    for (size_t i = 0; i < dump.size(); ++i) {
      ASSERT_EQ(dump[i].value("seq", uint64_t{0}), i + 1) << "not dense from 1: " << dump[i];
      ASSERT_TRUE(dump[i].contains("ts") && dump[i].contains("type")) << dump[i];
      if (i < last_dump.size()) {
        ASSERT_EQ(dump[i], last_dump[i]) << "a record changed between two readers";
      }
    }
    // These counts were taken before this dump.
    std::map<std::string, uint64_t> added = LeadsAdded(dump);
    for (const auto& [name, total] : totals) {
      EXPECT_LE(total, added[name]) << "counts show more leads of " << name << " than a later dump added";
    }
    if (rounds == 1) first_dump_size = dump.size();

    // history: the first lead, the newest one, and the one with most events.
    std::map<uint64_t, std::vector<json>> events_of;
    for (const json& e : dump) {
      if (e.contains("lead")) events_of[e["lead"].get<uint64_t>()].push_back(e);
    }
    ASSERT_FALSE(events_of.empty());
    uint64_t busiest = events_of.begin()->first;
    for (const auto& [lead, events] : events_of) {
      if (events.size() > events_of[busiest].size()) busiest = lead;
    }
    for (uint64_t lead : std::set<uint64_t>{1, events_of.rbegin()->first, busiest}) {
      SCOPED_TRACE(fmt::format("history {}", lead));
      r = Read({"history", std::to_string(lead)});
      ASSERT_EQ(r.code, 0) << r;
      std::vector<json> history = r.Lines();
      ASSERT_FALSE(history.empty()) << r;
      EXPECT_EQ(history.front()["type"], "lead_added");
      std::vector<json> upto_dump;
      for (size_t i = 0; i < history.size(); ++i) {
        EXPECT_EQ(history[i].value("lead", uint64_t{0}), lead) << history[i];
        if (i > 0) {
          EXPECT_LT(history[i - 1]["seq"], history[i]["seq"]) << "not oldest first";
        }
        if (history[i]["seq"].get<uint64_t>() <= dump.size()) upto_dump.push_back(history[i]);
      }
      EXPECT_EQ(upto_dump, events_of[lead]) << "history and dump disagree about lead " << lead;
    }
    last_dump = std::move(dump);

    // A write command while the writer lives.
    if (rounds == 2) {
      for (const std::vector<std::string>& args :
           std::vector<std::vector<std::string>>{{"campaign", "create", "x"}, {"claim", "alpha"}}) {
        r = Read(args);
        EXPECT_EQ(r.code, 1) << r;
        EXPECT_NE(r.err.find("is in use by another process"), std::string::npos) << r;
        EXPECT_NE(r.err.find("read-only commands"), std::string::npos) << r;
        EXPECT_EQ(r.out, "") << r;
      }
      write_refused = true;
      r = Read({"counts", "alpha"});
      EXPECT_EQ(r.code, 0) << "a read-only command right after the refused write: " << r;
    }
  }
  EXPECT_TRUE(write_refused);
  EXPECT_GT(last_dump.size(), first_dump_size) << "the log never grew while the readers read";
  EXPECT_GT(last_grand_total, first_grand_total) << "the counts never grew while the readers read";

  std::printf("[   INFO   ] %d reader rounds while the writer wrote; the log grew from %zu to %zu records\n", rounds,
              first_dump_size, last_dump.size());
  std::string exit = writer_.Stop();
  ASSERT_EQ(exit, "exit 0") << writer_.Log();

  // The writer is gone: the final state is exactly what it wrote.
  std::map<std::string, uint64_t> stats = writer_.Stats();
  RunResult r = Read({"dump"});
  ASSERT_EQ(r.code, 0) << r;
  std::vector<json> dump = r.Lines();
  EXPECT_EQ(dump.size(), stats["last_seq"]);
  r = Read({"counts"});
  ASSERT_EQ(r.code, 0) << r;
  std::map<std::string, std::map<std::string, uint64_t>> by_hand = ReplayByHand(dump);
  for (const json& c : r.Lines()) {
    std::string name = c["campaign"];
    EXPECT_EQ(c["total"], stats[name]) << name;
    for (const char* s : kStatuses) EXPECT_EQ(c[s], by_hand[name][s]) << name << " " << s;
    EXPECT_EQ(c["total"], by_hand[name]["total"]) << name;
  }
  std::set<std::string> types;
  for (const json& e : dump) types.insert(e["type"].get<std::string>());
  EXPECT_EQ(types.size(), 9u) << "the writer was meant to write every type of event";
  r = Read({"verify"});
  EXPECT_EQ(r.code, 0) << r;
  r = Read({"campaign", "create", "x"});
  EXPECT_EQ(r.code, 0) << "the database is free again: " << r;
}

}  // namespace
}  // namespace leadlog
