// Many threads on one Store. Dialer threads claim and report (and requeue
// what is finished, so leads cycle through their retries again and again)
// while a shared clock advances; an atomic owner table catches any lead
// handed to two dialers at once, a per-lead attempt counter catches skipped
// or repeated attempt numbers, and a do-not-call thread checks that no claim
// begun after a phone was listed ever returns its lead. Afterwards the log's
// records must match what the threads were told, Verify must find nothing
// (the views equal a fresh replay) and a reopen must show the same state.
//
// CI runs `ctest -R Concurrency` under ThreadSanitizer: the suite names start
// with "Concurrency" and the sizes shrink when built with TSAN.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "leadlog/leadlog.h"
#include "test_util.h"

#if defined(__SANITIZE_THREAD__)
#define LEADLOG_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LEADLOG_TEST_TSAN 1
#endif
#endif

namespace leadlog {
namespace {

using testing::ManualClock;
using testing::ScratchDir;

#ifdef LEADLOG_TEST_TSAN
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

std::string Phone(uint64_t i) { return fmt::format("+1415{:07d}", 2'000'000 + i); }

std::string CountsStr(const StatusCounts& c) { return fmt::format("[{}] total={}", fmt::join(c.by_status, ","), c.total); }

constexpr Duration kLease = 7 * 24 * kHour;  // never runs out while a dialer holds a lead

// The shared state of one run: the store, the clock and the checks.
class Workload {
 public:
  Workload(Store* store, ManualClock* clock, LeadId leads, uint64_t target)
      : store_(store), clock_(clock), leads_(leads), target_(target), owner_(leads + 1), last_attempt_(leads + 1),
        dnc_marked_(leads + 1) {}

  // One dialer: claim a few, check them, report each (dropping a few on the
  // floor as a dying dialer would), requeue what is finished for good.
  void Dialer(int id, uint64_t seed, double drop_probability) {
    std::mt19937_64 rng(seed);
    const std::string name = fmt::format("dialer-{}", id);
    const LeadStatus outcomes[] = {LeadStatus::kNoAnswer, LeadStatus::kNoAnswer, LeadStatus::kNoAnswer,
                                   LeadStatus::kVoicemail, LeadStatus::kVoicemail, LeadStatus::kFailed,
                                   LeadStatus::kCompleted};
    while (claims_ + reports_ < target_ && !failed_) {
      const uint64_t epoch = dnc_epoch_.load();
      Result<std::vector<ClaimedLead>> got = store_->Claim("c", 1 + rng() % 4, name);
      clock_->Advance(10 * 1000);  // 10 ms of simulated time per claim call
      if (!got.ok()) return Fail(fmt::format("{}: claim failed: {}", name, got.status().ToString()));
      if (got->empty()) {
        std::this_thread::yield();
        continue;
      }
      claims_ += got->size();
      for (const ClaimedLead& cl : *got) {
        if (cl.lead < 1 || cl.lead > leads_) return Fail(fmt::format("claim returned lead {}", cl.lead));
        int prev = 0;
        if (!owner_[cl.lead].compare_exchange_strong(prev, id + 1)) {
          return Fail(fmt::format("lead {} handed to {} while dialer-{} holds it", cl.lead, name, prev - 1));
        }
        uint64_t marked = dnc_marked_[cl.lead].load();
        if (marked != 0 && marked <= epoch) {
          return Fail(fmt::format("lead {} claimed by {} after its phone was listed do-not-call", cl.lead, name));
        }
        uint32_t last = last_attempt_[cl.lead].load();
        if (cl.attempt != last + 1) {
          return Fail(fmt::format("lead {}: claimed as attempt {}, the previous claim was attempt {}", cl.lead,
                                  cl.attempt, last));
        }
        last_attempt_[cl.lead].store(cl.attempt);
        if (cl.lease_until <= 0 || cl.profile.phone != Phone(cl.lead - 1)) {
          return Fail(fmt::format("lead {}: bad claim (phone {}, lease {})", cl.lead, cl.profile.phone, cl.lease_until));
        }
      }
      for (const ClaimedLead& cl : *got) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) < drop_probability) {
          // The dialer dies with this call open: only an expiry ends it.
          owner_[cl.lead].store(0);
          std::lock_guard<std::mutex> l(mu_);
          dropped_.insert(cl.lead);
          continue;
        }
        LeadStatus outcome = outcomes[rng() % 7];
        owner_[cl.lead].store(0);  // before the report: once it commits, others may claim the lead
        Result<LeadInfo> r = store_->Report(cl.lead, cl.attempt, outcome, "");
        if (!r.ok()) return Fail(fmt::format("report lead {} attempt {}: {}", cl.lead, cl.attempt, r.status().ToString()));
        ++reports_;
        if (r->status == LeadStatus::kDoNotCall || r->due != 0) continue;
        // Completed, not retried or out of attempts: back to the queue.
        Result<LeadInfo> q = store_->Requeue(cl.lead, "cycle");
        if (q.ok()) {
          ++requeues_;
        } else if (!(q.status().code() == Status::Code::kIllegalTransition && dnc_marked_[cl.lead].load() != 0)) {
          return Fail(fmt::format("requeue lead {}: {}", cl.lead, q.status().ToString()));
        }
      }
    }
  }

  // Lists `count` phones do-not-call while the dialers run.
  void DoNotCaller(int count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::set<LeadId> picked;
    for (int i = 0; i < count && !failed_ && claims_ + reports_ < target_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kTsan ? 20 : 5));
      LeadId lead = 1 + rng() % leads_;
      if (!picked.insert(lead).second) continue;
      Result<DncResult> r = store_->AddDoNotCall(Phone(lead - 1), "complaint");
      if (!r.ok()) return Fail("dnc: " + r.status().ToString());
      if (!r->newly_added || r->moved != std::vector<LeadId>{lead}) {
        return Fail(fmt::format("dnc of lead {}'s phone moved {} leads", lead, r->moved.size()));
      }
      uint64_t epoch = dnc_epoch_.load() + 1;
      dnc_marked_[lead].store(epoch);
      dnc_epoch_.store(epoch);
      ++dnc_phones_;
    }
  }

  void Fail(std::string message) {
    failed_ = true;
    std::lock_guard<std::mutex> l(mu_);
    if (errors_.size() < 20) errors_.push_back(std::move(message));
  }

  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> l(mu_);
    return errors_;
  }

  Store* store_;
  ManualClock* clock_;
  const LeadId leads_;
  const uint64_t target_;
  std::vector<std::atomic<int>> owner_;  // dialer id + 1, or 0
  std::vector<std::atomic<uint32_t>> last_attempt_;
  std::vector<std::atomic<uint64_t>> dnc_marked_;  // the epoch its phone was listed at, or 0
  std::atomic<uint64_t> dnc_epoch_{0};
  std::atomic<uint64_t> claims_{0}, reports_{0}, requeues_{0}, dnc_phones_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::vector<std::string> errors_;
  std::set<LeadId> dropped_;
};

class ConcurrencyTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(Durability durability = Durability::kBuffered, uint64_t checkpoint_every = 1'000'000) {
    Options o;
    o.clock = clock_.AsFunction();
    o.durability = durability;
    o.checkpoint_every_events = checkpoint_every;
    std::unique_ptr<Store> s;
    Status st = Store::Open(o, dir_.Sub("db"), &s);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }

  // Campaign "c" with `n` leads; retries come due after seconds.
  void Setup(Store& s, LeadId n) {
    CampaignSettings settings;
    settings.max_attempts = 3;
    settings.retry_no_answer = 1 * kSecond;
    settings.retry_voicemail = 2 * kSecond;
    settings.retry_failed = 3 * kSecond;
    settings.lease = kLease;
    ASSERT_TRUE(s.CreateCampaign("c", settings).ok());
    std::vector<LeadInput> rows;
    for (LeadId i = 0; i < n; ++i) rows.push_back({Phone(i)});
    Result<AddLeadsResult> r = s.AddLeads("c", rows);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->imported, n);
  }

  static std::vector<std::string> Problems(const Store& s) {
    AuditReport report;
    Status st = s.Verify(VerifyOptions{}, &report);
    if (!st.ok()) return {"verify: " + st.ToString()};
    std::vector<std::string> out;
    for (const AuditProblem& p : report.problems) out.push_back(fmt::format("{} seq={} lead={}: {}", p.rule, p.seq, p.lead, p.detail));
    return out;
  }

  // After the threads: expiries, the log against what the threads were
  // told, the audit, a replay and a reopen.
  void CheckAfterRun(std::unique_ptr<Store>& s, Workload& w, LeadId n) {
    for (const std::string& e : w.errors()) ADD_FAILURE() << e;
    ASSERT_FALSE(w.failed_);
    EXPECT_GE(w.claims_ + w.reports_, w.target_);

    // The dropped calls are still open; their leases end a week later.
    clock_.Advance(kLease + kHour);
    Result<std::vector<LeadInfo>> expired = s->Expire();
    ASSERT_TRUE(expired.ok()) << expired.status().ToString();
    std::set<LeadId> released;
    for (const LeadInfo& i : *expired) released.insert(i.id);
    EXPECT_EQ(released, w.dropped_) << "exactly the dropped calls were still open";

    std::map<EventType, uint64_t> types;
    ASSERT_TRUE(s->ScanLog(LogFilter{}, [&](const LoggedEvent& e) {
                   ++types[e.type];
                   return true;
                 }).ok());
    EXPECT_EQ(types[EventType::kLeadClaimed], w.claims_.load());
    EXPECT_EQ(types[EventType::kOutcomeReported], w.reports_.load());
    EXPECT_EQ(types[EventType::kLeadRequeued], w.requeues_.load());
    EXPECT_EQ(types[EventType::kLeaseExpired], w.dropped_.size());
    EXPECT_EQ(types[EventType::kPhoneMarkedDoNotCall], w.dnc_phones_.load());
    EXPECT_EQ(types[EventType::kLeadMarkedDoNotCall], w.dnc_phones_.load());
    EXPECT_EQ(types[EventType::kLeadAdded], n);
    uint64_t total = 0;
    for (const auto& [type, count] : types) total += count;
    EXPECT_EQ(s->LastSeq(), total);

    Result<StatusCounts> counts = s->Counts("c");
    ASSERT_TRUE(counts.ok());
    EXPECT_EQ((*counts)[LeadStatus::kCalling], 0u);
    EXPECT_EQ((*counts)[LeadStatus::kDoNotCall], w.dnc_phones_.load());
    EXPECT_EQ(counts->total, n);

    // Per lead: the attempt numbers the dialers saw are the store's.
    for (LeadId id = 1; id <= n; ++id) {
      Result<LeadInfo> info = s->GetLead(id);
      ASSERT_TRUE(info.ok());
      EXPECT_EQ(info->attempts, w.last_attempt_[id].load()) << "lead " << id;
    }

    EXPECT_THAT(Problems(*s), ::testing::IsEmpty());
    Result<std::vector<CampaignCounts>> replay = s->Replay(ReplayTarget{});
    ASSERT_TRUE(replay.ok());
    ASSERT_EQ(replay->size(), 1u);
    EXPECT_EQ(CountsStr((*replay)[0].counts), CountsStr(*counts));

    const Digest head = s->Head();
    s.reset();
    s = Open();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->Head().seq, head.seq);
    EXPECT_EQ(s->Head().Hex(), head.Hex());
    EXPECT_EQ(CountsStr(*s->Counts("c")), CountsStr(*counts));
    EXPECT_THAT(Problems(*s), ::testing::IsEmpty());
  }

  ManualClock clock_;
  ScratchDir dir_{"conc"};
};

TEST_F(ConcurrencyTest, SixteenDialersNeverShareALead) {
  const LeadId n = kTsan ? 1000 : 4000;
  const uint64_t target = kTsan ? 30'000 : 100'000;  // claims + reports
  std::unique_ptr<Store> s = Open();
  ASSERT_TRUE(s);
  Setup(*s, n);
  Workload w(s.get(), &clock_, n, target);
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) threads.emplace_back([&w, t] { w.Dialer(t, 1000 + t, 0.002); });
  threads.emplace_back([&w] { w.DoNotCaller(kTsan ? 10 : 40, 7); });
  for (auto& t : threads) t.join();
  EXPECT_GT(w.requeues_, 0u) << "leads cycled";
  EXPECT_GT(w.dnc_phones_, 0u);
  CheckAfterRun(s, w, n);
}

TEST_F(ConcurrencyTest, ReadersSeeConsistentViewsDuringWrites) {
  const LeadId n = kTsan ? 500 : 2000;
  const uint64_t target = kTsan ? 8'000 : 30'000;
  std::unique_ptr<Store> s = Open(Durability::kBuffered, 500);  // background checkpoints during the run
  ASSERT_TRUE(s);
  Setup(*s, n);
  Workload w(s.get(), &clock_, n, target);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> writers, readers;
  for (int t = 0; t < 4; ++t) writers.emplace_back([&w, t] { w.Dialer(t, 2000 + t, 0.0); });
  writers.emplace_back([&w] { w.DoNotCaller(kTsan ? 5 : 20, 8); });
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(3000 + r);
      SeqNo last_seq = 0;
      while (!done && !w.failed_) {
        SeqNo seq = s->LastSeq();
        if (seq < last_seq) return w.Fail(fmt::format("LastSeq went back from {} to {}", last_seq, seq));
        last_seq = seq;
        Digest head = s->Head();
        if (head.seq < seq) return w.Fail("Head is behind LastSeq");
        Result<StatusCounts> c = s->Counts("c");
        if (!c.ok()) return w.Fail("counts: " + c.status().ToString());
        uint64_t sum = 0;
        for (uint64_t v : c->by_status) sum += v;
        if (c->total != n || sum != n) return w.Fail("counts do not add up: " + CountsStr(*c));
        LeadId id = 1 + rng() % n;
        Result<LeadInfo> info = s->GetLead(id);
        if (!info.ok()) return w.Fail("get lead: " + info.status().ToString());
        if (info->id != id || info->profile.phone != Phone(id - 1) || info->attempts_used > info->attempts ||
            (info->status == LeadStatus::kCalling) != (info->lease_until != 0 && info->status != LeadStatus::kDoNotCall)) {
          if (info->status != LeadStatus::kDoNotCall) {
            return w.Fail(fmt::format("lead {} inconsistent: {} attempts {} used {} lease {}", id,
                                      LeadStatusName(info->status), info->attempts, info->attempts_used,
                                      info->lease_until));
          }
        }
        std::vector<LoggedEvent> history;
        Status hs = s->History(id, &history);
        if (!hs.ok()) return w.Fail("history: " + hs.ToString());
        if (history.empty() || history[0].type != EventType::kLeadAdded) {
          return w.Fail(fmt::format("history of lead {} does not start with lead_added", id));
        }
        uint32_t claims = 0;
        for (size_t i = 0; i < history.size(); ++i) {
          if (history[i].lead != id || (i > 0 && history[i].seq <= history[i - 1].seq)) {
            return w.Fail(fmt::format("history of lead {} is out of order or names another lead", id));
          }
          if (history[i].type == EventType::kLeadClaimed && history[i].attempt != ++claims) {
            return w.Fail(fmt::format("history of lead {}: claim of attempt {} after {} claims", id,
                                      history[i].attempt, claims - 1));
          }
        }
        Result<std::vector<LeadInfo>> by_phone = s->FindLeadsByPhone(Phone(id - 1));
        if (!by_phone.ok() || by_phone->size() != 1 || (*by_phone)[0].id != id) {
          return w.Fail(fmt::format("find by phone of lead {} failed", id));
        }
        ++reads;
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads, 100u);
  CheckAfterRun(s, w, n);
}

// Verify on the live store while dialers write and background checkpoints
// run: it audits the log up to what the store serves, so it must never see a
// difference that is only a race between its reads and a checkpoint.
TEST_F(ConcurrencyTest, VerifyDuringWritesFindsNothing) {
  const LeadId n = kTsan ? 300 : 1000;
  const uint64_t target = kTsan ? 6'000 : 20'000;
  std::unique_ptr<Store> s = Open(Durability::kBuffered, 200);
  ASSERT_TRUE(s);
  Setup(*s, n);
  Workload w(s.get(), &clock_, n, target);
  std::atomic<bool> done{false};
  std::vector<std::string> problems;
  int verifies = 0;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) writers.emplace_back([&w, t] { w.Dialer(t, 4000 + t, 0.0); });
  std::thread auditor([&] {
    while (!done && problems.empty()) {
      std::vector<std::string> found = Problems(*s);
      problems.insert(problems.end(), found.begin(), found.end());
      ++verifies;
    }
  });
  for (auto& t : writers) t.join();
  done = true;
  auditor.join();
  EXPECT_GT(verifies, 0);
  EXPECT_THAT(problems, ::testing::IsEmpty()) << "after " << verifies << " audits";
  CheckAfterRun(s, w, n);
}

TEST_F(ConcurrencyTest, SyncedWithSixtyFourDialers) {
  const LeadId n = kTsan ? 400 : 2000;
  const uint64_t target = kTsan ? 3'000 : 8'000;
  std::unique_ptr<Store> s = Open(Durability::kSynced);
  ASSERT_TRUE(s);
  Setup(*s, n);
  Workload w(s.get(), &clock_, n, target);
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) threads.emplace_back([&w, t] { w.Dialer(t, 5000 + t, 0.005); });
  for (auto& t : threads) t.join();
  CheckAfterRun(s, w, n);
}

}  // namespace
}  // namespace leadlog
