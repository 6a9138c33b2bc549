// A seeded random-operation property test. Random mixes of every write the
// API offers -- campaigns and settings updates, lead batches with duplicates,
// bad and do-not-call phones, claims, reports (valid, repeated, conflicting,
// for the wrong attempt, for unknown leads), expiries, do-not-call, requeues
// -- interleaved with clock jumps (often to exactly a due time or one
// microsecond before it), checkpoints and close/reopen. A small reference
// model written from DESIGN.md alone predicts every answer: the Status code,
// the leads handed out and their order, the rejects, the number of log
// records written (LastSeq), and afterwards every count and every touched
// lead. Every so often, and at the end, Verify must find no problem (the
// views equal a fresh replay; every lease ended, so an expire runs first).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "leadlog/leadlog.h"
#include "test_util.h"

namespace leadlog {
namespace {

using testing::ManualClock;
using testing::ScratchDir;

constexpr int kPhones = 80;

std::string Phone(int i) { return fmt::format("+1415{:07d}", 2'000'000 + i); }
// The same number in US national format.
std::string National(int i) {
  int n = 2'000'000 + i;
  return fmt::format("(415) {:03d}-{:04d}", n / 10000, n % 10000);
}

std::string CountsStr(const StatusCounts& c) { return fmt::format("[{}] total={}", fmt::join(c.by_status, ","), c.total); }

bool Retryable(LeadStatus s) {
  return s == LeadStatus::kNoAnswer || s == LeadStatus::kVoicemail || s == LeadStatus::kFailed;
}

// ------------------------------------------------------------------ the model

struct MLead {
  CampaignId campaign = 0;
  std::string phone;
  LeadStatus status = LeadStatus::kPending;
  uint32_t attempt = 0;       // latest attempt number
  uint32_t budget_start = 0;  // attempt number at the last requeue
  bool call_open = false;
  LeadStatus last_outcome = LeadStatus::kPending;
  Timestamp due = 0;    // pending: since; retry: when; 0: none
  Timestamp lease = 0;  // while the call is open
  uint64_t events = 0;  // records that name this lead
  std::vector<LeadStatus> ended;  // how each attempt ended, by attempt - 1
  uint32_t used() const { return attempt - budget_start; }
};

struct MCampaign {
  std::string name;
  CampaignSettings settings;
};

struct Model {
  std::vector<MCampaign> campaigns;
  std::vector<MLead> leads;  // leads[id - 1]
  std::set<std::string> dnc;
  SeqNo seq = 0;

  std::optional<CampaignId> Find(const std::string& name) const {
    for (size_t i = 0; i < campaigns.size(); ++i) {
      if (campaigns[i].name == name) return static_cast<CampaignId>(i + 1);
    }
    return std::nullopt;
  }
  MLead* Lead(LeadId id) { return id >= 1 && id <= leads.size() ? &leads[id - 1] : nullptr; }
  StatusCounts Counts(CampaignId c) const {
    StatusCounts out;
    for (const MLead& l : leads) {
      if (l.campaign != c) continue;
      ++out.by_status[static_cast<int>(l.status)];
      ++out.total;
    }
    return out;
  }
  bool Claimable(const MLead& l, Timestamp now) const {
    const CampaignSettings& s = campaigns[l.campaign - 1].settings;
    if (dnc.count(l.phone) || l.status == LeadStatus::kDoNotCall) return false;
    if (l.status == LeadStatus::kPending) return l.due <= now;
    if (!Retryable(l.status)) return false;
    return l.due != 0 && l.due <= now && s.RetryDelay(l.status) != kNever && l.used() < s.max_attempts;
  }
  // The end of an open attempt (outcome or expiry).
  void Finish(MLead& l, LeadStatus outcome, Timestamp now) {
    l.call_open = false;
    l.lease = 0;
    l.last_outcome = outcome;
    l.ended.push_back(outcome);
    l.due = 0;
    ++l.events;
    ++seq;
    if (l.status == LeadStatus::kDoNotCall) return;
    l.status = outcome;
    const CampaignSettings& s = campaigns[l.campaign - 1].settings;
    Duration d = s.RetryDelay(outcome);
    if (d != kNever && l.used() < s.max_attempts) l.due = now + d;
  }
  void MarkDnc(MLead& l) {
    l.status = LeadStatus::kDoNotCall;
    if (!l.call_open) l.due = 0;
    ++l.events;
    ++seq;
  }
};

// ------------------------------------------------------------------ the test

struct PropertyParams {
  uint64_t seed;
  int ops;
  uint64_t checkpoint_every;  // Options::checkpoint_every_events
};

void PrintTo(const PropertyParams& p, std::ostream* os) {
  *os << "seed " << p.seed << ", " << p.ops << " ops, checkpoint every " << p.checkpoint_every;
}

class PropertyTest : public ::testing::TestWithParam<PropertyParams> {
 protected:
  void SetUp() override {
    rng_.seed(GetParam().seed);
    OpenStore();
  }
  void OpenStore() {
    Options o;
    o.clock = clock_.AsFunction();
    o.checkpoint_every_events = GetParam().checkpoint_every;
    o.import_threads = 2;
    Status s = Store::Open(o, dir_.Sub("db"), &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  uint64_t R(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool P(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  Timestamp Now() const { return clock_.Now(); }

  std::string CampaignName() {
    if (P(0.04) || m_.campaigns.empty()) return fmt::format("c{}", R(5));  // may be new / unknown
    return m_.campaigns[R(m_.campaigns.size())].name;
  }
  CampaignSettings RandomSettings(bool allow_invalid) {
    const Duration delays[] = {kNever, 0, kMinute, 10 * kMinute, kHour};
    const Duration leases[] = {kMinute, 5 * kMinute, 15 * kMinute};
    CampaignSettings s;
    s.max_attempts = static_cast<uint32_t>(1 + R(4));
    s.retry_no_answer = delays[R(5)];
    s.retry_voicemail = delays[R(5)];
    s.retry_failed = delays[R(5)];
    s.lease = leases[R(3)];
    if (allow_invalid && P(0.1)) s.max_attempts = 0;
    return s;
  }
  LeadId AnyLead() { return m_.leads.empty() ? 1 : 1 + R(m_.leads.size()); }
  template <class Pred>
  std::optional<LeadId> PickLead(Pred pred) {
    std::vector<LeadId> ids;
    for (LeadId id = 1; id <= m_.leads.size(); ++id) {
      if (pred(m_.leads[id - 1])) ids.push_back(id);
    }
    if (ids.empty()) return std::nullopt;
    return ids[R(ids.size())];
  }

  void ExpectCode(const Status& s, Status::Code want, const std::string& what) {
    EXPECT_EQ(std::string(Status::CodeName(s.code())), Status::CodeName(want)) << what << ": " << s.ToString();
    if (s.code() != want) failed_ = true;
  }

  // ---- operations; each predicts, calls, compares and updates the model ----

  void OpCreateCampaign() {
    std::string name = fmt::format("c{}", R(5));  // new, or taken
    CampaignSettings s = RandomSettings(true);
    Result<Campaign> r = store_->CreateCampaign(name, s);
    std::string what = fmt::format("create campaign {}", name);
    if (s.max_attempts == 0) return ExpectCode(r.status(), Status::Code::kInvalidArgument, what);
    if (m_.Find(name)) return ExpectCode(r.status(), Status::Code::kAlreadyExists, what);
    ExpectCode(r.status(), Status::Code::kOk, what);
    if (!r.ok()) return;
    m_.campaigns.push_back({name, s});
    EXPECT_EQ(r->id, m_.campaigns.size());
    ++m_.seq;
  }

  void OpUpdateCampaign() {
    std::string name = CampaignName();
    CampaignSettings s = RandomSettings(true);
    Result<Campaign> r = store_->UpdateCampaign(name, s);
    std::string what = fmt::format("update campaign {}", name);
    std::optional<CampaignId> c = m_.Find(name);
    if (!c) return ExpectCode(r.status(), Status::Code::kNotFound, what);
    if (s.max_attempts == 0) return ExpectCode(r.status(), Status::Code::kInvalidArgument, what);
    ExpectCode(r.status(), Status::Code::kOk, what);
    if (!r.ok()) return;
    m_.campaigns[*c - 1].settings = s;
    EXPECT_TRUE(r->settings == s);
    ++m_.seq;
  }

  void OpAddLeads() {
    std::string name = CampaignName();
    AddOptions options;
    if (P(0.3)) options.default_region = "US";
    std::vector<LeadInput> rows;
    std::vector<std::string> e164;  // what each row normalizes to; "" invalid
    size_t k = 1 + R(6);
    for (size_t i = 0; i < k; ++i) {
      LeadInput in;
      int p = static_cast<int>(R(kPhones));
      double x = std::uniform_real_distribution<double>(0, 1)(rng_);
      if (x < 0.8) {
        in.phone = Phone(p);
        e164.push_back(in.phone);
      } else if (x < 0.92) {
        in.phone = National(p);
        e164.push_back(options.default_region.empty() ? "" : Phone(p));
      } else {
        in.phone = "+1 555 010 " + std::to_string(1000 + R(9000));  // 555: no such area code
        e164.push_back("");
      }
      in.first_name = fmt::format("n{}", rng_() % 1000);
      if (P(0.3)) in.custom = {{"k", std::to_string(R(100))}};
      rows.push_back(in);
    }
    Result<AddLeadsResult> r = store_->AddLeads(name, rows, options);
    std::optional<CampaignId> c = m_.Find(name);
    std::string what = fmt::format("add {} leads to {}", k, name);
    if (!c) return ExpectCode(r.status(), Status::Code::kNotFound, what);
    ExpectCode(r.status(), Status::Code::kOk, what);
    if (!r.ok()) return;
    // Predict: rows in order; a phone already in the campaign (also from an
    // earlier row of this batch) is a duplicate.
    std::vector<LeadId> want_ids;
    std::vector<std::pair<size_t, std::string>> want_rejects;
    uint64_t want_dnc = 0;
    for (size_t i = 0; i < k; ++i) {
      if (e164[i].empty()) {
        want_ids.push_back(0);
        want_rejects.emplace_back(i, "invalid_phone");
        continue;
      }
      bool dup = false;
      for (const MLead& l : m_.leads) dup = dup || (l.campaign == *c && l.phone == e164[i]);
      if (dup) {
        want_ids.push_back(0);
        want_rejects.emplace_back(i, "duplicate");
        continue;
      }
      MLead l;
      l.campaign = *c;
      l.phone = e164[i];
      l.events = 1;
      if (m_.dnc.count(l.phone)) {
        l.status = LeadStatus::kDoNotCall;
        ++want_dnc;
      } else {
        l.due = Now();
      }
      m_.leads.push_back(l);
      ++m_.seq;
      want_ids.push_back(m_.leads.size());
      touched_.insert(m_.leads.size());
    }
    std::vector<std::pair<size_t, std::string>> got_rejects;
    for (const RowReject& rj : r->rejects) got_rejects.emplace_back(rj.row, std::string(RejectReasonName(rj.reason)));
    EXPECT_EQ(r->ids, want_ids) << what;
    EXPECT_EQ(got_rejects, want_rejects) << what;
    EXPECT_EQ(r->do_not_call, want_dnc) << what;
    EXPECT_EQ(r->imported, static_cast<uint64_t>(std::count_if(want_ids.begin(), want_ids.end(),
                                                               [](LeadId id) { return id != 0; })));
  }

  void OpClaim() {
    std::string name = CampaignName();
    size_t n = 1 + R(5);
    Result<std::vector<ClaimedLead>> r = store_->Claim(name, n, "d");
    std::optional<CampaignId> c = m_.Find(name);
    std::string what = fmt::format("claim {} from {} at {}", n, name, FormatTime(Now()));
    if (!c) return ExpectCode(r.status(), Status::Code::kNotFound, what);
    ExpectCode(r.status(), Status::Code::kOk, what);
    if (!r.ok()) return;
    // Due leads of the campaign, oldest due first, ties by lead id.
    std::vector<std::pair<Timestamp, LeadId>> due;
    for (LeadId id = 1; id <= m_.leads.size(); ++id) {
      const MLead& l = m_.leads[id - 1];
      if (l.campaign == *c && m_.Claimable(l, Now())) due.emplace_back(l.due, id);
    }
    std::sort(due.begin(), due.end());
    if (due.size() > n) due.resize(n);
    std::vector<std::string> want, got;
    const Duration lease = m_.campaigns[*c - 1].settings.lease;
    for (const auto& [when, id] : due) {
      MLead& l = m_.leads[id - 1];
      ++l.attempt;
      l.status = LeadStatus::kCalling;
      l.call_open = true;
      l.lease = Now() + lease;
      l.due = 0;
      ++l.events;
      ++m_.seq;
      touched_.insert(id);
      want.push_back(fmt::format("lead {} attempt {} lease {} phone {}", id, l.attempt, l.lease, l.phone));
    }
    for (const ClaimedLead& cl : *r) {
      got.push_back(fmt::format("lead {} attempt {} lease {} phone {}", cl.lead, cl.attempt, cl.lease_until,
                                cl.profile.phone));
      touched_.insert(cl.lead);
    }
    EXPECT_EQ(got, want) << what;
    if (got != want) failed_ = true;
  }

  void OpReport() {
    const LeadStatus outcomes[] = {LeadStatus::kCompleted, LeadStatus::kNoAnswer, LeadStatus::kVoicemail,
                                   LeadStatus::kFailed};
    LeadStatus outcome = outcomes[R(4)];
    LeadId id = AnyLead();
    uint32_t attempt = 1;
    double x = std::uniform_real_distribution<double>(0, 1)(rng_);
    std::optional<LeadId> pick;
    if (x < 0.6 && (pick = PickLead([](const MLead& l) { return l.call_open; }))) {
      id = *pick;
      attempt = m_.leads[id - 1].attempt;
    } else if (x < 0.75 && (pick = PickLead([](const MLead& l) { return !l.call_open && l.attempt > 0; }))) {
      id = *pick;  // the dialer re-sends its report
      attempt = m_.leads[id - 1].attempt;
      outcome = m_.leads[id - 1].last_outcome;
    } else if (x < 0.85 && (pick = PickLead([](const MLead& l) { return !l.call_open && l.attempt > 0; }))) {
      id = *pick;  // a different outcome for a finished attempt
      attempt = m_.leads[id - 1].attempt;
      while (outcome == m_.leads[id - 1].last_outcome) outcome = outcomes[R(4)];
    } else if (x < 0.9 && (pick = PickLead([](const MLead& l) { return l.attempt >= 2; }))) {
      id = *pick;  // a re-sent report of an attempt the lead has moved past
      attempt = static_cast<uint32_t>(1 + R(m_.leads[id - 1].attempt - 1));
      if (P(0.5)) outcome = m_.leads[id - 1].ended[attempt - 1];
    } else if (x < 0.95 && !m_.leads.empty()) {
      id = AnyLead();  // the wrong attempt, or a lead never claimed
      attempt = static_cast<uint32_t>(1 + R(m_.leads[id - 1].attempt + 2));
    } else {
      id = m_.leads.size() + 1 + R(3);  // no such lead
    }
    Result<LeadInfo> r = store_->Report(id, attempt, outcome, "r");
    std::string what = fmt::format("report lead {} attempt {} {}", id, attempt, LeadStatusName(outcome));
    touched_.insert(id);
    MLead* l = m_.Lead(id);
    if (l == nullptr) return ExpectCode(r.status(), Status::Code::kNotFound, what);
    if (attempt < l->attempt) {
      // Attempts end once: agree with how it ended (a no-op) or conflict.
      bool same = l->ended.at(attempt - 1) == outcome;
      return ExpectCode(r.status(), same ? Status::Code::kOk : Status::Code::kConflict, what + " (earlier attempt)");
    }
    if (attempt == l->attempt && !l->call_open && l->last_outcome == outcome) {
      return ExpectCode(r.status(), Status::Code::kOk, what + " (repeated: no-op)");
    }
    if (attempt != l->attempt) return ExpectCode(r.status(), Status::Code::kIllegalTransition, what);
    if (!l->call_open) return ExpectCode(r.status(), Status::Code::kConflict, what);
    ExpectCode(r.status(), Status::Code::kOk, what);
    m_.Finish(*l, outcome, Now());
  }

  void OpExpire() {
    Result<std::vector<LeadInfo>> r = store_->Expire();
    ExpectCode(r.status(), Status::Code::kOk, "expire");
    if (!r.ok()) return;
    std::vector<std::pair<Timestamp, LeadId>> lapsed;
    for (LeadId id = 1; id <= m_.leads.size(); ++id) {
      const MLead& l = m_.leads[id - 1];
      if (l.call_open && l.lease <= Now()) lapsed.emplace_back(l.lease, id);
    }
    std::sort(lapsed.begin(), lapsed.end());
    std::vector<LeadId> want, got;
    for (const auto& [lease, id] : lapsed) {
      m_.Finish(m_.leads[id - 1], LeadStatus::kNoAnswer, Now());
      want.push_back(id);
      touched_.insert(id);
    }
    for (const LeadInfo& info : *r) got.push_back(info.id);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "expire at " << FormatTime(Now());
  }

  void OpDoNotCallPhone() {
    int p = static_cast<int>(R(kPhones));
    bool national = P(0.2);
    Result<DncResult> r = national ? store_->AddDoNotCall(National(p), "dnc", "US") : store_->AddDoNotCall(Phone(p), "dnc");
    ExpectCode(r.status(), Status::Code::kOk, "dnc " + Phone(p));
    if (!r.ok()) return;
    bool fresh = m_.dnc.insert(Phone(p)).second;
    if (fresh) ++m_.seq;
    std::vector<LeadId> moved;
    for (LeadId id = 1; id <= m_.leads.size(); ++id) {
      MLead& l = m_.leads[id - 1];
      if (l.phone != Phone(p) || l.status == LeadStatus::kDoNotCall) continue;
      m_.MarkDnc(l);
      moved.push_back(id);
      touched_.insert(id);
    }
    EXPECT_EQ(r->newly_added, fresh);
    EXPECT_EQ(r->moved, moved);
  }

  void OpMarkLead() {
    LeadId id = P(0.95) ? AnyLead() : m_.leads.size() + 1;
    Result<LeadInfo> r = store_->MarkLeadDoNotCall(id, "asked");
    std::string what = fmt::format("mark lead {}", id);
    MLead* l = m_.Lead(id);
    if (l == nullptr) return ExpectCode(r.status(), Status::Code::kNotFound, what);
    ExpectCode(r.status(), Status::Code::kOk, what);
    touched_.insert(id);
    if (l->status != LeadStatus::kDoNotCall) m_.MarkDnc(*l);
  }

  void OpRequeue() {
    std::optional<LeadId> pick = PickLead([](const MLead& l) {
      return l.status == LeadStatus::kCompleted || Retryable(l.status);
    });
    LeadId id = pick && P(0.8) ? *pick : (P(0.95) ? AnyLead() : m_.leads.size() + 1);
    Result<LeadInfo> r = store_->Requeue(id, "op");
    std::string what = fmt::format("requeue lead {}", id);
    MLead* l = m_.Lead(id);
    if (l == nullptr) return ExpectCode(r.status(), Status::Code::kNotFound, what);
    touched_.insert(id);
    if (l->status != LeadStatus::kCompleted && !Retryable(l->status)) {
      return ExpectCode(r.status(), Status::Code::kIllegalTransition,
                        what + " from " + std::string(LeadStatusName(l->status)));
    }
    ExpectCode(r.status(), Status::Code::kOk, what);
    l->status = LeadStatus::kPending;
    l->budget_start = l->attempt;
    l->due = Now();
    ++l->events;
    ++m_.seq;
  }

  void OpAdvanceClock() {
    double x = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (x < 0.35) {
      // To exactly the next due or lease time, or one microsecond before it.
      Timestamp next = INT64_MAX;
      for (const MLead& l : m_.leads) {
        for (Timestamp t : {l.due, l.lease}) {
          if (t > Now() && t < next) next = t;
        }
      }
      if (next != INT64_MAX) clock_.Set(P(0.5) ? next : next - 1);
    } else if (x < 0.6) {
      clock_.Advance(static_cast<Duration>(R(kSecond)));
    } else if (x < 0.9) {
      clock_.Advance(static_cast<Duration>(R(30)) * kMinute);
    } else {
      clock_.Advance(static_cast<Duration>(1 + R(5)) * kHour);
    }
  }

  void Reopen() {
    store_.reset();
    OpenStore();
  }

  // ---- comparisons ----

  void CheckLead(LeadId id) {
    const MLead* l = m_.Lead(id);
    Result<LeadInfo> r = store_->GetLead(id);
    if (l == nullptr) {
      EXPECT_TRUE(r.status().IsNotFound()) << "lead " << id << " should not exist";
      return;
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    bool open = l->call_open;
    // Due: a pending lead since it was added or requeued; a retry while the
    // settings in force still allow it; otherwise nothing.
    const CampaignSettings& s = m_.campaigns[l->campaign - 1].settings;
    Timestamp due = 0;
    if (!open && l->status == LeadStatus::kPending) due = l->due;
    if (!open && Retryable(l->status) && s.RetryDelay(l->status) != kNever && l->used() < s.max_attempts) due = l->due;
    std::string want = fmt::format("lead {} c{} {} {} attempts={} used={} due={} lease={}", id, l->campaign, l->phone,
                                   LeadStatusName(l->status), l->attempt, l->used(), due, open ? l->lease : 0);
    std::string got = fmt::format("lead {} c{} {} {} attempts={} used={} due={} lease={}", r->id, r->campaign,
                                  r->profile.phone, LeadStatusName(r->status), r->attempts, r->attempts_used, r->due,
                                  r->lease_until);
    EXPECT_EQ(got, want);
    if (got != want) failed_ = true;
  }

  void CheckHistory(LeadId id) {
    std::vector<LoggedEvent> h;
    ASSERT_TRUE(store_->History(id, &h).ok());
    EXPECT_EQ(h.size(), m_.leads[id - 1].events) << "history of lead " << id;
  }

  void CheckAll(bool every_lead) {
    EXPECT_EQ(store_->LastSeq(), m_.seq) << "records written";
    if (store_->LastSeq() != m_.seq) failed_ = true;
    std::vector<CampaignCounts> all = store_->AllCounts();
    ASSERT_EQ(all.size(), m_.campaigns.size());
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].campaign.name, m_.campaigns[i].name);
      EXPECT_TRUE(all[i].campaign.settings == m_.campaigns[i].settings) << m_.campaigns[i].name;
      std::string want = CountsStr(m_.Counts(static_cast<CampaignId>(i + 1)));
      EXPECT_EQ(CountsStr(all[i].counts), want) << "campaign " << m_.campaigns[i].name;
      if (CountsStr(all[i].counts) != want) failed_ = true;
    }
    if (every_lead) {
      for (LeadId id = 1; id <= m_.leads.size() + 1; ++id) CheckLead(id);
    } else {
      for (LeadId id : touched_) CheckLead(id);
    }
    touched_.clear();
  }

  void VerifyClean(const std::string& when) {
    OpExpire();  // verify flags leases that ran out and were never ended
    AuditReport report;
    Status s = store_->Verify(VerifyOptions{}, &report);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(report.last_seq, m_.seq);
    for (const AuditProblem& p : report.problems) {
      ADD_FAILURE() << when << ": " << p.rule << " seq " << p.seq << " lead " << p.lead << ": " << p.detail;
      failed_ = true;
    }
  }

  std::mt19937_64 rng_;
  ManualClock clock_;
  ScratchDir dir_{"prop"};
  std::unique_ptr<Store> store_;
  Model m_;
  std::set<LeadId> touched_;
  bool failed_ = false;
};

TEST_P(PropertyTest, StoreAgreesWithTheReferenceModel) {
  const int ops = GetParam().ops;
  std::vector<std::string> trail;  // the last operations, for the failure message
  std::map<std::string, int> histogram;
  for (int step = 0; step < ops && !failed_; ++step) {
    double x = std::uniform_real_distribution<double>(0, 1)(rng_);
    std::string op;
    if (m_.campaigns.empty() || x < 0.02) {
      op = "create";
      OpCreateCampaign();
    } else if (x < 0.05) {
      op = "update";
      OpUpdateCampaign();
    } else if (x < 0.17) {
      op = "add";
      OpAddLeads();
    } else if (x < 0.40) {
      op = "claim";
      OpClaim();
    } else if (x < 0.62) {
      op = "report";
      OpReport();
    } else if (x < 0.66) {
      op = "expire";
      OpExpire();
    } else if (x < 0.68) {
      op = "dnc";
      OpDoNotCallPhone();
    } else if (x < 0.70) {
      op = "mark";
      OpMarkLead();
    } else if (x < 0.76) {
      op = "requeue";
      OpRequeue();
    } else if (x < 0.985) {
      op = "clock";
      OpAdvanceClock();
    } else if (x < 0.993) {
      op = "checkpoint";
      Status s = store_->Checkpoint();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else {
      op = "reopen";
      Reopen();
      ASSERT_TRUE(store_);
    }
    ++histogram[op];
    trail.push_back(fmt::format("{}:{}@{}", step, op, FormatTime(Now())));
    if (trail.size() > 12) trail.erase(trail.begin());
    CheckAll(step % 50 == 0 || op == "reopen");
    if (step % 250 == 0) {
      for (LeadId id = 1; id <= m_.leads.size(); ++id) CheckHistory(id);
    }
    if (step % 200 == 199) VerifyClean(fmt::format("step {}", step));
    if (HasFailure()) failed_ = true;
  }
  if (failed_) {
    ADD_FAILURE() << "seed " << GetParam().seed << ", last operations: " << fmt::format("{}", fmt::join(trail, " "));
    return;
  }
  CheckAll(true);
  VerifyClean("the end");
  Reopen();
  ASSERT_TRUE(store_);
  CheckAll(true);
  for (LeadId id = 1; id <= m_.leads.size(); ++id) CheckHistory(id);
  VerifyClean("after the final reopen");
  // The run exercised what it claims to.
  EXPECT_GT(m_.leads.size(), 100u);
  EXPECT_GE(histogram["reopen"], 3);
  EXPECT_GE(histogram["claim"], ops / 8);
  uint64_t open_or_done = 0;
  for (const MLead& l : m_.leads) open_or_done += l.attempt > 1;
  EXPECT_GT(open_or_done, 10u) << "retries happened";
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest,
                         ::testing::Values(PropertyParams{1, 2000, 1'000'000}, PropertyParams{2, 2000, 40},
                                           PropertyParams{3, 2000, 7}, PropertyParams{20261204, 2000, 1'000'000},
                                           PropertyParams{0xfeedface, 2000, 100}),
                         [](const ::testing::TestParamInfo<PropertyParams>& p) {
                           return fmt::format("seed_{}_cp_{}", p.param.seed, p.param.checkpoint_every);
                         });

}  // namespace
}  // namespace leadlog
