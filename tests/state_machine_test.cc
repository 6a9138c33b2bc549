// The state machine of DESIGN.md "Statuses and transitions" and "The dial
// queue", through the public Store API with an injected clock: every legal
// transition, and every illegal one refused with nothing written (LastSeq,
// Head, counts and the lead unchanged). The second half drives
// leadlog::Apply (engine/src/apply.h) directly on a State, for the rules that
// the API never lets a caller reach (a replayed or tampered log can), and
// checks that a refusal leaves the State exactly as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apply.h"
#include "event.h"
#include "leadlog/leadlog.h"
#include "state.h"
#include "test_util.h"

namespace leadlog {
namespace {

using ::testing::HasSubstr;
using testing::ManualClock;
using testing::ScratchDir;

constexpr Timestamp T0 = ManualClock::kStart;

// Distinct valid US numbers: +1 415 2xx xxxx.
std::string Phone(int i) { return fmt::format("+1415{:07d}", 2'000'000 + i); }

std::string Str(const StatusCounts& c) {
  return fmt::format("pending={} calling={} completed={} no_answer={} voicemail={} failed={} do_not_call={} total={}",
                     c[LeadStatus::kPending], c[LeadStatus::kCalling], c[LeadStatus::kCompleted],
                     c[LeadStatus::kNoAnswer], c[LeadStatus::kVoicemail], c[LeadStatus::kFailed],
                     c[LeadStatus::kDoNotCall], c.total);
}

// Expected counts, by status, in the order of the wire enum.
StatusCounts Counts(uint64_t pending, uint64_t calling, uint64_t completed, uint64_t no_answer, uint64_t voicemail,
                    uint64_t failed, uint64_t dnc) {
  StatusCounts c;
  c.by_status = {pending, calling, completed, no_answer, voicemail, failed, dnc};
  c.total = pending + calling + completed + no_answer + voicemail + failed + dnc;
  return c;
}

void ExpectRefused(const Status& s, Status::Code code, std::string_view needle) {
  EXPECT_EQ(Status::CodeName(s.code()), std::string(Status::CodeName(code))) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(std::string(needle))) << s.ToString();
}

class StateMachineTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenStore(); }

  void OpenStore() {
    Options o;
    o.clock = clock_.AsFunction();
    Status s = Store::Open(o, dir_.Sub("db"), &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Reopen() {
    store_.reset();
    OpenStore();
  }

  Campaign MakeCampaign(const std::string& name, CampaignSettings settings = {}) {
    Result<Campaign> c = store_->CreateCampaign(name, settings);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Campaign{};
  }

  LeadId Add(const std::string& campaign, const std::string& phone, const std::string& first = "") {
    LeadInput in;
    in.phone = phone;
    in.first_name = first;
    Result<LeadId> id = store_->AddLead(campaign, in);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  std::vector<ClaimedLead> ClaimN(const std::string& campaign, size_t n, const std::string& dialer = "d1") {
    Result<std::vector<ClaimedLead>> r = store_->Claim(campaign, n, dialer);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<ClaimedLead>{};
  }

  std::vector<LeadId> ClaimIds(const std::string& campaign, size_t n) {
    std::vector<LeadId> ids;
    for (const ClaimedLead& c : ClaimN(campaign, n)) ids.push_back(c.lead);
    return ids;
  }

  // Claims exactly `lead` (asserting it is the one handed out) and returns its attempt.
  uint32_t ClaimOne(const std::string& campaign, LeadId lead) {
    std::vector<ClaimedLead> got = ClaimN(campaign, 1);
    EXPECT_EQ(got.size(), 1u);
    if (got.size() != 1) return 0;
    EXPECT_EQ(got[0].lead, lead);
    return got[0].attempt;
  }

  LeadInfo Report(LeadId lead, uint32_t attempt, LeadStatus outcome) {
    Result<LeadInfo> r = store_->Report(lead, attempt, outcome, "test");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LeadInfo{};
  }

  LeadInfo Get(LeadId id) {
    Result<LeadInfo> r = store_->GetLead(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LeadInfo{};
  }

  StatusCounts CountsOf(const std::string& campaign) {
    Result<StatusCounts> r = store_->Counts(campaign);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : StatusCounts{};
  }

  std::vector<LoggedEvent> HistoryOf(LeadId id) {
    std::vector<LoggedEvent> events;
    Status s = store_->History(id, &events);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return events;
  }

  // Everything a refusal must leave alone.
  struct Snapshot {
    SeqNo seq = 0;
    std::string head;
    std::vector<std::string> counts;
    std::map<LeadId, std::string> leads;
  };
  Snapshot Take(std::vector<LeadId> leads = {}) {
    Snapshot s;
    s.seq = store_->LastSeq();
    s.head = store_->Head().Hex();
    for (const CampaignCounts& c : store_->AllCounts()) s.counts.push_back(c.campaign.name + ": " + Str(c.counts));
    for (LeadId id : leads) {
      LeadInfo i = Get(id);
      s.leads[id] = fmt::format("status={} attempts={} used={} due={} lease={}", LeadStatusName(i.status), i.attempts,
                                i.attempts_used, i.due, i.lease_until);
    }
    return s;
  }
  void ExpectNothingWritten(const Snapshot& before) {
    std::vector<LeadId> ids;
    for (const auto& [id, desc] : before.leads) ids.push_back(id);
    Snapshot after = Take(ids);
    EXPECT_EQ(after.seq, before.seq) << "a refused call wrote to the log";
    EXPECT_EQ(after.head, before.head);
    EXPECT_EQ(after.counts, before.counts);
    EXPECT_EQ(after.leads, before.leads);
  }

  void ExpectVerifyOk() {
    AuditReport report;
    Status s = store_->Verify(VerifyOptions{}, &report);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (const AuditProblem& p : report.problems) ADD_FAILURE() << p.rule << " seq " << p.seq << ": " << p.detail;
  }

  // A lead of `campaign` brought to `status` (pending, calling or one of the
  // outcomes) from scratch; returns its id.
  LeadId LeadIn(const std::string& campaign, LeadStatus status, int phone) {
    LeadId id = Add(campaign, Phone(phone));
    if (status == LeadStatus::kPending) return id;
    uint32_t attempt = ClaimOne(campaign, id);
    if (status == LeadStatus::kCalling) return id;
    Report(id, attempt, status);
    return id;
  }

  ManualClock clock_;
  ScratchDir dir_{"sm"};
  std::unique_ptr<Store> store_;
};

// ------------------------------------------------------------------ (new) -> pending / do_not_call

TEST_F(StateMachineTest, AddedLeadIsPendingAndDueFromWhenAdded) {
  MakeCampaign("c");
  clock_.Advance(kMinute);
  LeadId id = Add("c", Phone(1), "Ada");
  EXPECT_EQ(id, 1u);
  LeadInfo info = Get(id);
  EXPECT_EQ(info.status, LeadStatus::kPending);
  EXPECT_EQ(info.attempts, 0u);
  EXPECT_EQ(info.attempts_used, 0u);
  EXPECT_EQ(info.added, T0 + kMinute);
  EXPECT_EQ(info.due, T0 + kMinute);
  EXPECT_EQ(info.profile.phone, Phone(1));
  EXPECT_EQ(info.profile.first_name, "Ada");
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(1, 0, 0, 0, 0, 0, 0)));
  std::vector<LoggedEvent> h = HistoryOf(id);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].type, EventType::kLeadAdded);
  EXPECT_EQ(h[0].status, LeadStatus::kPending);
  EXPECT_EQ(store_->LastSeq(), 2u);  // campaign_created, lead_added
}

TEST_F(StateMachineTest, AddedLeadWithListedPhoneIsDoNotCallAndNeverClaimed) {
  MakeCampaign("c");
  ASSERT_TRUE(store_->AddDoNotCall(Phone(1), "asked").ok());
  Result<AddLeadsResult> r = store_->AddLeads("c", {{Phone(1)}, {Phone(2)}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->imported, 2u);
  EXPECT_EQ(r->do_not_call, 1u);
  EXPECT_TRUE(r->rejects.empty());
  ASSERT_EQ(r->ids.size(), 2u);
  EXPECT_EQ(Get(r->ids[0]).status, LeadStatus::kDoNotCall);
  EXPECT_EQ(Get(r->ids[0]).due, 0);
  EXPECT_EQ(Get(r->ids[1]).status, LeadStatus::kPending);
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(1, 0, 0, 0, 0, 0, 1)));
  std::vector<LoggedEvent> h = HistoryOf(r->ids[0]);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].status, LeadStatus::kDoNotCall);
  clock_.Advance(24 * kHour);
  EXPECT_EQ(ClaimIds("c", 10), std::vector<LeadId>{r->ids[1]});
  EXPECT_TRUE(ClaimIds("c", 10).empty());
}

// ------------------------------------------------------------------ pending -> calling

TEST_F(StateMachineTest, ClaimMovesPendingToCallingWithLeaseAndProfile) {
  CampaignSettings s;
  s.lease = 10 * kMinute;
  MakeCampaign("c", s);
  LeadInput in;
  in.phone = "+1 (415) 200-0001";
  in.first_name = "Grace";
  in.last_name = "Hopper";
  in.email = "grace@example.com";
  in.custom = {{"account", "A-17"}, {"product", "solar"}};
  Result<LeadId> id = store_->AddLead("c", in);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  clock_.Advance(kSecond);
  std::vector<ClaimedLead> got = ClaimN("c", 5, "dialer-7");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].lead, *id);
  EXPECT_EQ(got[0].attempt, 1u);
  EXPECT_EQ(got[0].lease_until, T0 + kSecond + 10 * kMinute);
  EXPECT_EQ(got[0].profile.phone, "+14152000001");
  EXPECT_EQ(got[0].profile.first_name, "Grace");
  EXPECT_EQ(got[0].profile.last_name, "Hopper");
  EXPECT_EQ(got[0].profile.email, "grace@example.com");
  EXPECT_EQ(got[0].profile.custom, in.custom);
  LeadInfo info = Get(*id);
  EXPECT_EQ(info.status, LeadStatus::kCalling);
  EXPECT_EQ(info.attempts, 1u);
  EXPECT_EQ(info.attempts_used, 1u);
  EXPECT_EQ(info.lease_until, T0 + kSecond + 10 * kMinute);
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(0, 1, 0, 0, 0, 0, 0)));
  std::vector<LoggedEvent> h = HistoryOf(*id);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].type, EventType::kLeadClaimed);
  EXPECT_EQ(h[1].attempt, 1u);
  EXPECT_EQ(h[1].dialer, "dialer-7");
  EXPECT_EQ(h[1].ts, T0 + kSecond);
  // Two claims never get the same lead.
  EXPECT_TRUE(ClaimIds("c", 5).empty());
}

// ------------------------------------------------------------------ calling -> each outcome

class OutcomeTest : public StateMachineTest, public ::testing::WithParamInterface<LeadStatus> {};

TEST_P(OutcomeTest, CallingToOutcomeSchedulesRetryByDefaults) {
  const LeadStatus outcome = GetParam();
  MakeCampaign("c");  // defaults: 3 attempts, no_answer 1h, voicemail 4h, failed never
  LeadId id = Add("c", Phone(1));
  uint32_t attempt = ClaimOne("c", id);
  clock_.Advance(2 * kMinute);
  LeadInfo r = Report(id, attempt, outcome);
  EXPECT_EQ(r.status, outcome);
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_EQ(r.lease_until, 0);
  Timestamp now = T0 + 2 * kMinute;
  Timestamp want_due = outcome == LeadStatus::kNoAnswer   ? now + kHour
                       : outcome == LeadStatus::kVoicemail ? now + 4 * kHour
                                                           : 0;
  EXPECT_EQ(r.due, want_due);
  EXPECT_EQ(Get(id).status, outcome);
  StatusCounts want;
  want.by_status[static_cast<int>(outcome)] = 1;
  want.total = 1;
  EXPECT_EQ(Str(CountsOf("c")), Str(want));
  std::vector<LoggedEvent> h = HistoryOf(id);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2].type, EventType::kOutcomeReported);
  EXPECT_EQ(h[2].status, outcome);
  EXPECT_EQ(h[2].attempt, 1u);
  EXPECT_EQ(h[2].reason, "test");
  ExpectVerifyOk();
}

INSTANTIATE_TEST_SUITE_P(Outcomes, OutcomeTest,
                         ::testing::Values(LeadStatus::kCompleted, LeadStatus::kNoAnswer, LeadStatus::kVoicemail,
                                           LeadStatus::kFailed),
                         [](const ::testing::TestParamInfo<LeadStatus>& p) {
                           return std::string(LeadStatusName(p.param));
                         });

// ------------------------------------------------------------------ calling -> no_answer by lease expiry

TEST_F(StateMachineTest, LeaseExpiryEndsTheCallAsNoAnswerAndCountsAsAnAttempt) {
  CampaignSettings s;
  s.lease = 15 * kMinute;
  s.max_attempts = 2;
  MakeCampaign("c", s);
  LeadId id = Add("c", Phone(1));
  LeadId other = Add("c", Phone(2));
  ClaimOne("c", id);
  // One microsecond before the lease ends: nothing to expire, nothing written.
  Snapshot before = Take({id});
  Result<std::vector<LeadInfo>> early = store_->Expire(T0 + 15 * kMinute - 1);
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(early->empty());
  ExpectNothingWritten(before);

  clock_.Set(T0 + 15 * kMinute);
  Result<std::vector<LeadInfo>> released = store_->Expire();
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  ASSERT_EQ(released->size(), 1u);
  EXPECT_EQ((*released)[0].id, id);
  EXPECT_EQ((*released)[0].status, LeadStatus::kNoAnswer);
  LeadInfo info = Get(id);
  EXPECT_EQ(info.status, LeadStatus::kNoAnswer);
  EXPECT_EQ(info.attempts, 1u);
  EXPECT_EQ(info.attempts_used, 1u);
  EXPECT_EQ(info.due, T0 + 15 * kMinute + kHour);
  EXPECT_EQ(info.lease_until, 0);
  std::vector<LoggedEvent> h = HistoryOf(id);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2].type, EventType::kLeaseExpired);
  EXPECT_EQ(EventTypeName(h[2].type), "lease_expired");
  EXPECT_EQ(h[2].attempt, 1u);
  EXPECT_EQ(Get(other).status, LeadStatus::kPending);
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(1, 0, 0, 1, 0, 0, 0)));

  // Expiring again does nothing.
  before = Take({id});
  Result<std::vector<LeadInfo>> again = store_->Expire();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  ExpectNothingWritten(before);

  // A late report of the attempt: no_answer agrees with the expiry (a
  // no-op); a different outcome conflicts.
  before = Take({id});
  ASSERT_TRUE(store_->Report(id, 1, LeadStatus::kNoAnswer, "late").ok());
  ExpectNothingWritten(before);
  Result<LeadInfo> late = store_->Report(id, 1, LeadStatus::kCompleted, "late");
  ExpectRefused(late.status(), Status::Code::kConflict, "already ended");
  ExpectNothingWritten(before);

  // The expiry used one of the two attempts: one retry, then exhausted.
  clock_.Set(T0 + 15 * kMinute + kHour);
  ASSERT_EQ(ClaimIds("c", 5), (std::vector<LeadId>{other, id}));
  EXPECT_EQ(Get(id).attempts, 2u);
  clock_.Advance(15 * kMinute);
  released = store_->Expire();
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->size(), 2u);
  EXPECT_EQ(Get(id).due, 0) << "two of two attempts used: no retry";
  clock_.Advance(30 * 24 * kHour);
  EXPECT_EQ(ClaimIds("c", 5), std::vector<LeadId>{other});
  ExpectVerifyOk();
}

// ------------------------------------------------------------------ retries

struct RetryCase {
  LeadStatus outcome;
  Duration delay;  // the campaign's setting
};

class RetryTest : public StateMachineTest, public ::testing::WithParamInterface<RetryCase> {};

TEST_P(RetryTest, RetriedExactlyWhenTheDelayHasPassed) {
  const RetryCase rc = GetParam();
  CampaignSettings s;
  s.retry_no_answer = s.retry_voicemail = s.retry_failed = kNever;
  if (rc.outcome == LeadStatus::kNoAnswer) s.retry_no_answer = rc.delay;
  if (rc.outcome == LeadStatus::kVoicemail) s.retry_voicemail = rc.delay;
  if (rc.outcome == LeadStatus::kFailed) s.retry_failed = rc.delay;
  MakeCampaign("c", s);
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  clock_.Advance(3 * kMinute);
  const Timestamp reported = clock_.Now();
  Report(id, 1, rc.outcome);
  const Timestamp due = reported + rc.delay;
  EXPECT_EQ(Get(id).due, due);

  // One microsecond early: not claimed, nothing written.
  clock_.Set(due - 1);
  Snapshot before = Take({id});
  EXPECT_TRUE(ClaimIds("c", 10).empty());
  ExpectNothingWritten(before);

  clock_.Set(due);
  std::vector<ClaimedLead> got = ClaimN("c", 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].lead, id);
  EXPECT_EQ(got[0].attempt, 2u);
  LeadInfo info = Get(id);
  EXPECT_EQ(info.status, LeadStatus::kCalling);
  EXPECT_EQ(info.attempts, 2u);
  EXPECT_EQ(info.attempts_used, 2u);
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(0, 1, 0, 0, 0, 0, 0)));
  ExpectVerifyOk();
}

INSTANTIATE_TEST_SUITE_P(Outcomes, RetryTest,
                         ::testing::Values(RetryCase{LeadStatus::kNoAnswer, kHour},
                                           RetryCase{LeadStatus::kVoicemail, 4 * kHour},
                                           RetryCase{LeadStatus::kFailed, 30 * kMinute}),
                         [](const ::testing::TestParamInfo<RetryCase>& p) {
                           return std::string(LeadStatusName(p.param.outcome)) + "_" +
                                  std::to_string(p.param.delay / kSecond) + "s";
                         });

TEST_F(StateMachineTest, DefaultDelaysRetryNoAnswerAfterOneHourAndVoicemailAfterFour) {
  MakeCampaign("c");
  LeadId na = Add("c", Phone(1));
  LeadId vm = Add("c", Phone(2));
  ASSERT_EQ(ClaimIds("c", 2), (std::vector<LeadId>{na, vm}));
  Report(na, 1, LeadStatus::kNoAnswer);
  Report(vm, 1, LeadStatus::kVoicemail);
  clock_.Set(T0 + kHour - 1);
  EXPECT_TRUE(ClaimIds("c", 5).empty());
  clock_.Set(T0 + kHour);
  EXPECT_EQ(ClaimIds("c", 5), std::vector<LeadId>{na});
  clock_.Set(T0 + 4 * kHour - 1);
  EXPECT_TRUE(ClaimIds("c", 5).empty());
  clock_.Set(T0 + 4 * kHour);
  EXPECT_EQ(ClaimIds("c", 5), std::vector<LeadId>{vm});
}

TEST_F(StateMachineTest, CompletedAndFailedAreNotRetriedByDefault) {
  MakeCampaign("c");
  LeadId done = Add("c", Phone(1));
  LeadId failed = Add("c", Phone(2));
  ASSERT_EQ(ClaimIds("c", 2), (std::vector<LeadId>{done, failed}));
  Report(done, 1, LeadStatus::kCompleted);
  Report(failed, 1, LeadStatus::kFailed);
  EXPECT_EQ(Get(failed).due, 0);
  EXPECT_EQ(Get(done).due, 0);
  clock_.Advance(365 * 24 * kHour);
  Snapshot before = Take({done, failed});
  EXPECT_TRUE(ClaimIds("c", 10).empty());
  ExpectNothingWritten(before);
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(0, 0, 1, 0, 0, 1, 0)));
}

TEST_F(StateMachineTest, ExhaustedLeadIsNeverClaimedAgain) {
  CampaignSettings s;
  s.max_attempts = 3;
  s.retry_no_answer = kMinute;
  MakeCampaign("c", s);
  LeadId id = Add("c", Phone(1));
  for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_EQ(ClaimOne("c", id), attempt);
    LeadInfo r = Report(id, attempt, LeadStatus::kNoAnswer);
    EXPECT_EQ(r.attempts_used, attempt);
    EXPECT_EQ(r.due, attempt < 3 ? clock_.Now() + kMinute : 0) << "attempt " << attempt;
    clock_.Advance(kMinute);
  }
  clock_.Advance(1000 * kHour);
  Snapshot before = Take({id});
  EXPECT_TRUE(ClaimIds("c", 10).empty());
  ExpectNothingWritten(before);
  EXPECT_EQ(Get(id).status, LeadStatus::kNoAnswer);
  Reopen();
  clock_.Advance(kHour);
  EXPECT_TRUE(ClaimIds("c", 10).empty()) << "exhausted after a reopen too";
  ExpectVerifyOk();
}

TEST_F(StateMachineTest, OneAttemptCampaignNeverRetries) {
  CampaignSettings s;
  s.max_attempts = 1;
  MakeCampaign("c", s);
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  EXPECT_EQ(Report(id, 1, LeadStatus::kNoAnswer).due, 0);
  clock_.Advance(10 * kHour);
  EXPECT_TRUE(ClaimIds("c", 1).empty());
}

// ------------------------------------------------------------------ any -> do_not_call

class DncFromStatusTest : public StateMachineTest, public ::testing::WithParamInterface<LeadStatus> {};

TEST_P(DncFromStatusTest, MarkLeadMovesItToDoNotCallForGood) {
  const LeadStatus from = GetParam();
  MakeCampaign("c");
  LeadId id = LeadIn("c", from, 1);
  LeadId bystander = Add("c", Phone(2));
  ASSERT_EQ(Get(id).status, from);
  SeqNo seq = store_->LastSeq();
  Result<LeadInfo> r = store_->MarkLeadDoNotCall(id, "customer asked");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, LeadStatus::kDoNotCall);
  EXPECT_EQ(store_->LastSeq(), seq + 1);
  EXPECT_EQ(Get(id).status, LeadStatus::kDoNotCall);
  EXPECT_EQ(Get(id).due, 0);
  EXPECT_EQ(CountsOf("c")[LeadStatus::kDoNotCall], 1u);
  EXPECT_EQ(CountsOf("c")[from], from == LeadStatus::kPending ? 1u : 0u);  // the bystander is pending
  EXPECT_EQ(CountsOf("c").total, 2u);
  std::vector<LoggedEvent> h = HistoryOf(id);
  EXPECT_EQ(h.back().type, EventType::kLeadMarkedDoNotCall);
  EXPECT_EQ(h.back().reason, "customer asked");

  // Marking again: OK, nothing written.
  Snapshot before = Take({id});
  ASSERT_TRUE(store_->MarkLeadDoNotCall(id, "again").ok());
  ExpectNothingWritten(before);

  // Never claimed again, whatever the time; requeue refused.
  clock_.Advance(30 * 24 * kHour);
  std::vector<LeadId> got = ClaimIds("c", 10);
  EXPECT_EQ(got, std::vector<LeadId>{bystander});
  before = Take({id});
  ExpectRefused(store_->Requeue(id, "op").status(), Status::Code::kIllegalTransition, "do_not_call");
  ExpectNothingWritten(before);
  EXPECT_EQ(Get(id).status, LeadStatus::kDoNotCall);
  // A call left open under do_not_call still has to end (verify checks it).
  ASSERT_TRUE(store_->Expire().ok());
  EXPECT_EQ(Get(id).status, LeadStatus::kDoNotCall);
  ExpectVerifyOk();
}

INSTANTIATE_TEST_SUITE_P(Statuses, DncFromStatusTest,
                         ::testing::Values(LeadStatus::kPending, LeadStatus::kCalling, LeadStatus::kCompleted,
                                           LeadStatus::kNoAnswer, LeadStatus::kVoicemail, LeadStatus::kFailed),
                         [](const ::testing::TestParamInfo<LeadStatus>& p) {
                           return std::string(LeadStatusName(p.param));
                         });

TEST_F(StateMachineTest, OutcomeOfACallInProgressWhenMarkedIsRecordedAndStatusStays) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Result<DncResult> d = store_->AddDoNotCall(Phone(1), "complaint");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->newly_added);
  EXPECT_EQ(d->moved, std::vector<LeadId>{id});
  EXPECT_EQ(Get(id).status, LeadStatus::kDoNotCall);
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(0, 0, 0, 0, 0, 0, 1)));

  SeqNo seq = store_->LastSeq();
  Result<LeadInfo> r = store_->Report(id, 1, LeadStatus::kNoAnswer, "rang out");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, LeadStatus::kDoNotCall);
  EXPECT_EQ(r->due, 0);
  EXPECT_EQ(store_->LastSeq(), seq + 1) << "the outcome is recorded";
  std::vector<LoggedEvent> h = HistoryOf(id);
  ASSERT_EQ(h.back().type, EventType::kOutcomeReported);
  EXPECT_EQ(h.back().status, LeadStatus::kNoAnswer);
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(0, 0, 0, 0, 0, 0, 1)));

  // The dialer re-sends it: a no-op. A different outcome: Conflict.
  Snapshot before = Take({id});
  ASSERT_TRUE(store_->Report(id, 1, LeadStatus::kNoAnswer, "rang out").ok());
  ExpectNothingWritten(before);
  ExpectRefused(store_->Report(id, 1, LeadStatus::kCompleted, "").status(), Status::Code::kConflict, "already ended");
  ExpectNothingWritten(before);

  // No retry is ever due, even with the retry delay long past.
  clock_.Advance(10 * kHour);
  EXPECT_TRUE(ClaimIds("c", 1).empty());
  ExpectNothingWritten(before);
  ExpectVerifyOk();
}

TEST_F(StateMachineTest, LeaseOfACallInProgressWhenMarkedStillExpires) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  ASSERT_TRUE(store_->MarkLeadDoNotCall(id, "asked").ok());
  EXPECT_EQ(Get(id).lease_until, T0 + 15 * kMinute) << "the open call keeps its lease";
  clock_.Set(T0 + 15 * kMinute);
  SeqNo seq = store_->LastSeq();
  Result<std::vector<LeadInfo>> released = store_->Expire();
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  ASSERT_EQ(released->size(), 1u);
  EXPECT_EQ((*released)[0].status, LeadStatus::kDoNotCall);
  EXPECT_EQ(store_->LastSeq(), seq + 1);
  EXPECT_EQ(HistoryOf(id).back().type, EventType::kLeaseExpired);
  EXPECT_EQ(Get(id).status, LeadStatus::kDoNotCall);
  EXPECT_EQ(Get(id).lease_until, 0);
  clock_.Advance(10 * kHour);
  EXPECT_TRUE(ClaimIds("c", 1).empty());
  ExpectVerifyOk();
}

TEST_F(StateMachineTest, DoNotCallPhoneMarksEveryLeadWithItAcrossCampaigns) {
  MakeCampaign("a");
  MakeCampaign("b");
  MakeCampaign("c");
  LeadId in_a = LeadIn("a", LeadStatus::kPending, 1);
  LeadId other_a = LeadIn("a", LeadStatus::kPending, 2);
  LeadId in_b = LeadIn("b", LeadStatus::kCalling, 1);
  LeadId in_c = LeadIn("c", LeadStatus::kCompleted, 1);
  SeqNo seq = store_->LastSeq();
  // The phone in national format with a region.
  Result<DncResult> d = store_->AddDoNotCall("(415) 200-0001", "complaint", "US");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->newly_added);
  EXPECT_EQ(d->moved, (std::vector<LeadId>{in_a, in_b, in_c}));
  EXPECT_EQ(store_->LastSeq(), seq + 4) << "one phone record and one move per lead";
  for (LeadId id : {in_a, in_b, in_c}) EXPECT_EQ(Get(id).status, LeadStatus::kDoNotCall) << id;
  EXPECT_EQ(Get(other_a).status, LeadStatus::kPending);
  EXPECT_EQ(Str(CountsOf("a")), Str(Counts(1, 0, 0, 0, 0, 0, 1)));
  EXPECT_EQ(Str(CountsOf("b")), Str(Counts(0, 0, 0, 0, 0, 0, 1)));
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(0, 0, 0, 0, 0, 0, 1)));
  Result<bool> listed = store_->IsDoNotCall(Phone(1));
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(*listed);
  Result<DncEntry> entry = store_->GetDoNotCall(Phone(1));
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->phone, Phone(1));
  EXPECT_EQ(entry->reason, "complaint");
  EXPECT_EQ(entry->seq, seq + 1);
  EXPECT_FALSE(*store_->IsDoNotCall(Phone(2)));

  // Listing it again: OK, nothing new.
  Snapshot before = Take({in_a, in_b, in_c});
  Result<DncResult> again = store_->AddDoNotCall(Phone(1), "again");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->newly_added);
  EXPECT_TRUE(again->moved.empty());
  ExpectNothingWritten(before);

  // A new lead with that phone, in any campaign, starts as do_not_call.
  MakeCampaign("d");
  LeadId in_d = Add("d", Phone(1));
  EXPECT_EQ(Get(in_d).status, LeadStatus::kDoNotCall);
  clock_.Advance(100 * kHour);
  for (const char* c : {"a", "b", "c", "d"}) {
    for (const ClaimedLead& cl : ClaimN(c, 10)) EXPECT_NE(cl.profile.phone, Phone(1)) << c;
  }
  ASSERT_TRUE(store_->Expire().ok());  // in_b's call, open since before the mark
  EXPECT_EQ(Get(in_b).status, LeadStatus::kDoNotCall);
  ExpectVerifyOk();
}

// ------------------------------------------------------------------ requeue

class RequeueTest : public StateMachineTest, public ::testing::WithParamInterface<LeadStatus> {};

TEST_P(RequeueTest, RequeueGivesAFreshBudgetAndNeverReusesAnAttemptNumber) {
  const LeadStatus from = GetParam();
  CampaignSettings s;
  s.max_attempts = 1;  // the first attempt exhausts the budget
  MakeCampaign("c", s);
  LeadId id = LeadIn("c", from, 1);
  clock_.Advance(kHour);
  EXPECT_TRUE(ClaimIds("c", 1).empty());
  clock_.Advance(kMinute);
  SeqNo seq = store_->LastSeq();
  Result<LeadInfo> r = store_->Requeue(id, "operator");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(store_->LastSeq(), seq + 1);
  EXPECT_EQ(r->status, LeadStatus::kPending);
  EXPECT_EQ(r->attempts, 1u) << "attempt numbers are never reused";
  EXPECT_EQ(r->attempts_used, 0u) << "a fresh budget";
  EXPECT_EQ(r->due, clock_.Now());
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(1, 0, 0, 0, 0, 0, 0)));
  EXPECT_EQ(HistoryOf(id).back().type, EventType::kLeadRequeued);
  EXPECT_EQ(HistoryOf(id).back().reason, "operator");

  // Claimable at once as attempt 2; with a budget of 1 it is exhausted again after it.
  EXPECT_EQ(ClaimOne("c", id), 2u);
  EXPECT_EQ(Get(id).attempts_used, 1u);
  // A dialer re-sending its report of attempt 1 (which ended before the
  // requeue): the same outcome is an OK no-op, a different one a Conflict.
  Snapshot before = Take({id});
  Result<LeadInfo> resent = store_->Report(id, 1, from, "resent");
  ASSERT_TRUE(resent.ok()) << resent.status().ToString();
  EXPECT_EQ(resent->status, LeadStatus::kCalling);
  ExpectNothingWritten(before);
  const LeadStatus other = from == LeadStatus::kCompleted ? LeadStatus::kFailed : LeadStatus::kCompleted;
  ExpectRefused(store_->Report(id, 1, other, "").status(), Status::Code::kConflict,
                fmt::format("already ended as {}", LeadStatusName(from)));
  ExpectNothingWritten(before);
  ExpectRefused(store_->Report(id, 3, from, "").status(), Status::Code::kIllegalTransition, "attempt 3");
  ExpectNothingWritten(before);
  EXPECT_EQ(Report(id, 2, LeadStatus::kNoAnswer).due, 0);
  clock_.Advance(100 * kHour);
  EXPECT_TRUE(ClaimIds("c", 1).empty());
  ExpectVerifyOk();
}

INSTANTIATE_TEST_SUITE_P(Statuses, RequeueTest,
                         ::testing::Values(LeadStatus::kCompleted, LeadStatus::kNoAnswer, LeadStatus::kVoicemail,
                                           LeadStatus::kFailed),
                         [](const ::testing::TestParamInfo<LeadStatus>& p) {
                           return std::string(LeadStatusName(p.param));
                         });

TEST_F(StateMachineTest, RequeueRefusedFromCallingPendingAndDoNotCall) {
  MakeCampaign("c");
  // In this order: LeadIn claims the oldest due lead, which must be its own.
  LeadId dnc = LeadIn("c", LeadStatus::kCompleted, 3);
  LeadId calling = LeadIn("c", LeadStatus::kCalling, 2);
  LeadId pending = LeadIn("c", LeadStatus::kPending, 1);
  ASSERT_TRUE(store_->MarkLeadDoNotCall(dnc, "asked").ok());
  ASSERT_EQ(Get(calling).status, LeadStatus::kCalling);
  ASSERT_EQ(Get(pending).status, LeadStatus::kPending);
  Snapshot before = Take({pending, calling, dnc});
  ExpectRefused(store_->Requeue(pending, "op").status(), Status::Code::kIllegalTransition, "already pending");
  ExpectNothingWritten(before);
  ExpectRefused(store_->Requeue(calling, "op").status(), Status::Code::kIllegalTransition, "calling");
  ExpectNothingWritten(before);
  ExpectRefused(store_->Requeue(dnc, "op").status(), Status::Code::kIllegalTransition, "permanent");
  ExpectNothingWritten(before);
  ExpectRefused(store_->Requeue(999, "op").status(), Status::Code::kNotFound, "999");
  ExpectNothingWritten(before);
}

// ------------------------------------------------------------------ illegal reports

TEST_F(StateMachineTest, ReportForTheWrongAttemptIsRefused) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Snapshot before = Take({id});
  ExpectRefused(store_->Report(id, 2, LeadStatus::kCompleted, "").status(), Status::Code::kIllegalTransition,
                "not on attempt 2");
  ExpectNothingWritten(before);
  ExpectRefused(store_->Report(id, 0, LeadStatus::kCompleted, "").status(), Status::Code::kInvalidArgument,
                "numbered from 1");
  ExpectNothingWritten(before);
  EXPECT_EQ(Get(id).status, LeadStatus::kCalling);
}

TEST_F(StateMachineTest, ReportOnALeadNeverClaimedIsRefused) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  Snapshot before = Take({id});
  ExpectRefused(store_->Report(id, 1, LeadStatus::kNoAnswer, "").status(), Status::Code::kIllegalTransition,
                "attempt 1");
  ExpectNothingWritten(before);
  ExpectRefused(store_->Report(id + 100, 1, LeadStatus::kNoAnswer, "").status(), Status::Code::kNotFound,
                "no lead");
  ExpectNothingWritten(before);
  EXPECT_EQ(Get(id).status, LeadStatus::kPending);
}

TEST_F(StateMachineTest, ReportOfANonOutcomeIsRefused) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Snapshot before = Take({id});
  for (LeadStatus s : {LeadStatus::kPending, LeadStatus::kCalling, LeadStatus::kDoNotCall}) {
    ExpectRefused(store_->Report(id, 1, s, "").status(), Status::Code::kInvalidArgument, "not an outcome");
    ExpectNothingWritten(before);
  }
}

TEST_F(StateMachineTest, ConflictingReportForAFinishedAttemptIsAConflict) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Report(id, 1, LeadStatus::kVoicemail);
  for (LeadStatus other : {LeadStatus::kCompleted, LeadStatus::kNoAnswer, LeadStatus::kFailed}) {
    Snapshot before = Take({id});
    ExpectRefused(store_->Report(id, 1, other, "").status(), Status::Code::kConflict, "already ended as voicemail");
    ExpectNothingWritten(before);
  }
  EXPECT_EQ(Get(id).status, LeadStatus::kVoicemail);
}

TEST_F(StateMachineTest, RepeatedReportOfAnEarlierAttemptAgreesOrConflicts) {
  CampaignSettings s;
  s.retry_no_answer = kMinute;
  MakeCampaign("c", s);
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Report(id, 1, LeadStatus::kNoAnswer);
  clock_.Advance(kMinute);
  ASSERT_EQ(ClaimOne("c", id), 2u);  // attempt 2 is calling
  Snapshot before = Take({id});
  // The dialer of attempt 1 re-sends its report late.
  Result<LeadInfo> again = store_->Report(id, 1, LeadStatus::kNoAnswer, "resent");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, LeadStatus::kCalling);
  EXPECT_EQ(again->attempts, 2u);
  ExpectNothingWritten(before);
  ExpectRefused(store_->Report(id, 1, LeadStatus::kVoicemail, "").status(), Status::Code::kConflict,
                "attempt 1 of lead 1 already ended as no_answer");
  ExpectNothingWritten(before);
  EXPECT_EQ(Report(id, 2, LeadStatus::kCompleted).status, LeadStatus::kCompleted);
}

TEST_F(StateMachineTest, DuplicateIdenticalReportIsAnOkNoOp) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  LeadInfo first = Report(id, 1, LeadStatus::kNoAnswer);
  size_t events = HistoryOf(id).size();
  Snapshot before = Take({id});
  clock_.Advance(kMinute);
  Result<LeadInfo> again = store_->Report(id, 1, LeadStatus::kNoAnswer, "resent");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, LeadStatus::kNoAnswer);
  EXPECT_EQ(again->due, first.due) << "the retry is not rescheduled";
  ExpectNothingWritten(before);
  EXPECT_EQ(HistoryOf(id).size(), events);
}

// ------------------------------------------------------------------ the dial queue

TEST_F(StateMachineTest, ClaimNeverHandsOutDoNotCallLeads) {
  MakeCampaign("c");
  Result<AddLeadsResult> r = store_->AddLeads("c", {{Phone(1)}, {Phone(2)}, {Phone(3)}, {Phone(4)}});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(store_->MarkLeadDoNotCall(r->ids[0], "").ok());
  ASSERT_TRUE(store_->AddDoNotCall(Phone(3), "").ok());
  std::vector<LeadId> got = ClaimIds("c", 100);
  EXPECT_EQ(got, (std::vector<LeadId>{r->ids[1], r->ids[3]}));
}

TEST_F(StateMachineTest, ClaimOrderIsOldestDueFirstTiesByLeadId) {
  CampaignSettings s;
  s.retry_no_answer = kHour;
  MakeCampaign("c", s);
  // Lead 1 added at T0, claimed and no_answer at T0: due T0+1h.
  LeadId l1 = Add("c", Phone(1));
  ClaimOne("c", l1);
  Report(l1, 1, LeadStatus::kNoAnswer);
  // Lead 2 added at T0+30m (due then); leads 3 and 4 at T0+1h (tie with lead 1).
  clock_.Set(T0 + 30 * kMinute);
  LeadId l2 = Add("c", Phone(2));
  clock_.Set(T0 + kHour);
  Result<AddLeadsResult> r = store_->AddLeads("c", {{Phone(3)}, {Phone(4)}});
  ASSERT_TRUE(r.ok());
  LeadId l3 = r->ids[0], l4 = r->ids[1];
  // Lead 5 at T0+2h.
  clock_.Set(T0 + 2 * kHour);
  LeadId l5 = Add("c", Phone(5));
  // One at a time, to see the order the queue hands them out.
  std::vector<LeadId> order;
  for (int i = 0; i < 6; ++i) {
    std::vector<LeadId> one = ClaimIds("c", 1);
    if (one.empty()) break;
    order.push_back(one[0]);
  }
  EXPECT_EQ(order, (std::vector<LeadId>{l2, l1, l3, l4, l5}));
}

TEST_F(StateMachineTest, ClaimOrderAcrossPendingAndRetries) {
  CampaignSettings s;
  s.retry_no_answer = 10 * kMinute;
  s.retry_voicemail = 20 * kMinute;
  MakeCampaign("c", s);
  std::vector<LeadId> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(Add("c", Phone(i)));
    clock_.Advance(5 * kMinute);
  }
  // Leads 1..3 to retries due at +10m/+20m from now.
  ASSERT_EQ(ClaimIds("c", 3), (std::vector<LeadId>{ids[0], ids[1], ids[2]}));
  Report(ids[0], 1, LeadStatus::kVoicemail);  // due now+20m
  Report(ids[1], 1, LeadStatus::kNoAnswer);   // due now+10m
  Report(ids[2], 1, LeadStatus::kNoAnswer);   // due now+10m
  clock_.Advance(20 * kMinute);
  std::vector<LeadId> got = ClaimIds("c", 10);
  // Pending leads 4..6 were due long before; then the retries by due, id.
  EXPECT_EQ(got, (std::vector<LeadId>{ids[3], ids[4], ids[5], ids[1], ids[2], ids[0]}));
}

// Requeues at the same instant, in descending id order: both are due at the
// same time, so the tie goes to the lower lead id (DESIGN.md: oldest due
// first, ties by lead id) -- and a reopen must not change the answer.
TEST_F(StateMachineTest, RequeuedLeadsDueAtTheSameInstantGoByLeadId) {
  MakeCampaign("c");
  LeadId a = Add("c", Phone(1));
  LeadId b = Add("c", Phone(2));
  ASSERT_EQ(ClaimIds("c", 2), (std::vector<LeadId>{a, b}));
  Report(a, 1, LeadStatus::kCompleted);
  Report(b, 1, LeadStatus::kCompleted);
  clock_.Advance(kMinute);
  ASSERT_TRUE(store_->Requeue(b, "op").ok());
  ASSERT_TRUE(store_->Requeue(a, "op").ok());
  EXPECT_EQ(Get(a).due, Get(b).due);
  std::vector<LeadId> live = ClaimIds("c", 1);
  EXPECT_EQ(live, std::vector<LeadId>{a}) << "tie by lead id";
}

// The same log, reopened before the claim (the queues are rebuilt from the
// lead rows): the answer a live store must give too.
TEST_F(StateMachineTest, RequeuedLeadsDueAtTheSameInstantGoByLeadIdAfterReopen) {
  MakeCampaign("c");
  LeadId a = Add("c", Phone(1));
  LeadId b = Add("c", Phone(2));
  ASSERT_EQ(ClaimIds("c", 2), (std::vector<LeadId>{a, b}));
  Report(a, 1, LeadStatus::kCompleted);
  Report(b, 1, LeadStatus::kCompleted);
  clock_.Advance(kMinute);
  ASSERT_TRUE(store_->Requeue(b, "op").ok());
  ASSERT_TRUE(store_->Requeue(a, "op").ok());
  Reopen();
  EXPECT_EQ(ClaimIds("c", 1), std::vector<LeadId>{a});
}

TEST_F(StateMachineTest, RequeuedLeadTiesWithANewLeadByLeadId) {
  MakeCampaign("c");
  LeadId a = Add("c", Phone(1));
  ClaimOne("c", a);
  Report(a, 1, LeadStatus::kCompleted);
  clock_.Advance(kMinute);
  LeadId b = Add("c", Phone(2));  // due now
  ASSERT_TRUE(store_->Requeue(a, "op").ok());  // due now too, lower id
  EXPECT_EQ(ClaimIds("c", 2), (std::vector<LeadId>{a, b}));
}

TEST_F(StateMachineTest, ClaimRefusesBadArgumentsAndUnknownCampaign) {
  MakeCampaign("c");
  Add("c", Phone(1));
  Snapshot before = Take({1});
  ExpectRefused(store_->Claim("c", 0, "d").status(), Status::Code::kInvalidArgument, "not 0");
  ExpectRefused(store_->Claim("c", 1'000'000'000, "d").status(), Status::Code::kInvalidArgument, "1 to");
  ExpectRefused(store_->Claim("nope", 1, "d").status(), Status::Code::kNotFound, "nope");
  ExpectRefused(store_->Claim("c", 1, std::string(300, 'x')).status(), Status::Code::kInvalidArgument, "dialer");
  ExpectNothingWritten(before);
}

// ------------------------------------------------------------------ adding leads

TEST_F(StateMachineTest, DuplicatePhonesInACampaignAreRejected) {
  MakeCampaign("c");
  MakeCampaign("other");
  LeadId first = Add("c", Phone(1));
  Snapshot before = Take({first});
  LeadInput dup;
  dup.phone = "+1 415-200-0001";  // the same number, written differently
  Result<LeadId> r = store_->AddLead("c", dup);
  ExpectRefused(r.status(), Status::Code::kAlreadyExists, "duplicate");
  ExpectNothingWritten(before);

  // Within one AddLeads call, and against existing leads: reason duplicate.
  Result<AddLeadsResult> batch =
      store_->AddLeads("c", {{Phone(2)}, {Phone(1)}, {Phone(3)}, {"+14152000002"}, {Phone(4)}});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->imported, 3u);
  ASSERT_EQ(batch->rejects.size(), 2u);
  EXPECT_EQ(batch->rejects[0].row, 1u);
  EXPECT_EQ(batch->rejects[0].reason, RejectReason::kDuplicate);
  EXPECT_EQ(batch->rejects[1].row, 3u);
  EXPECT_EQ(batch->rejects[1].reason, RejectReason::kDuplicate);
  EXPECT_EQ(RejectReasonName(batch->rejects[1].reason), "duplicate");
  EXPECT_EQ(batch->ids, (std::vector<LeadId>{2, 0, 3, 0, 4}));
  EXPECT_EQ(Str(CountsOf("c")), Str(Counts(4, 0, 0, 0, 0, 0, 0)));

  // The same phone in another campaign is a lead of its own.
  LeadId elsewhere = Add("other", Phone(1));
  EXPECT_EQ(elsewhere, 5u);
  Result<std::vector<LeadInfo>> all = store_->FindLeadsByPhone(Phone(1));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, first);
  EXPECT_EQ((*all)[1].id, elsewhere);
  EXPECT_EQ((*all)[1].campaign_name, "other");
}

TEST_F(StateMachineTest, NationalFormatNeedsARegion) {
  MakeCampaign("c");
  Snapshot before = Take();
  LeadInput in;
  in.phone = "(650) 253-0000";
  ExpectRefused(store_->AddLead("c", in).status(), Status::Code::kInvalidArgument, "invalid_phone");
  ExpectNothingWritten(before);
  AddOptions us;
  us.default_region = "US";
  Result<LeadId> id = store_->AddLead("c", in, us);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Get(*id).profile.phone, "+16502530000");
  // A bad region is refused as a whole.
  AddOptions bad;
  bad.default_region = "XX";
  before = Take();
  in.phone = "(650) 253-0001";
  EXPECT_FALSE(store_->AddLeads("c", {in}, bad).ok());
  ExpectNothingWritten(before);
}

TEST_F(StateMachineTest, InvalidRowsAreRejectedWithTheirReason) {
  MakeCampaign("c");
  LeadInput bad_phone{"+1 555 123 4567"}, missing{""}, bad_email{Phone(2), "", "", "not-an-email"};
  Result<AddLeadsResult> r = store_->AddLeads("c", {bad_phone, {Phone(1)}, missing, bad_email});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->imported, 1u);
  ASSERT_EQ(r->rejects.size(), 3u);
  EXPECT_EQ(r->rejects[0].reason, RejectReason::kInvalidPhone);
  EXPECT_EQ(r->rejects[1].reason, RejectReason::kMissingPhone);
  EXPECT_EQ(r->rejects[2].reason, RejectReason::kInvalidEmail);
  EXPECT_EQ(r->ids, (std::vector<LeadId>{0, 1, 0, 0}));
  EXPECT_EQ(store_->LastSeq(), 2u);
}

// ------------------------------------------------------------------ campaign settings over time

TEST_F(StateMachineTest, LoweringMaxAttemptsStopsRetriesFromThenOn) {
  CampaignSettings s;
  s.max_attempts = 3;
  MakeCampaign("c", s);
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Report(id, 1, LeadStatus::kNoAnswer);  // retry due T0+1h under max 3
  clock_.Advance(kMinute);
  CampaignSettings lower = s;
  lower.max_attempts = 1;
  EXPECT_EQ(Get(id).due, T0 + kHour);
  Result<Campaign> u = store_->UpdateCampaign("c", lower);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->settings.max_attempts, 1u);
  EXPECT_EQ(Get(id).due, 0) << "the settings in force stop the retry";
  EXPECT_EQ(store_->GetCampaign("c")->settings.max_attempts, 1u);
  clock_.Set(T0 + 2 * kHour);
  Snapshot before = Take({id});
  EXPECT_TRUE(ClaimIds("c", 5).empty()) << "one of one attempts used";
  ExpectNothingWritten(before);
  // A replay reaches the same state, and the audit accepts it.
  Result<std::vector<CampaignCounts>> replay = store_->Replay(ReplayTarget{});
  ASSERT_TRUE(replay.ok());
  ASSERT_EQ(replay->size(), 1u);
  EXPECT_EQ(Str((*replay)[0].counts), Str(CountsOf("c")));
  EXPECT_EQ((*replay)[0].campaign.settings.max_attempts, 1u);
  ExpectVerifyOk();
  Reopen();
  EXPECT_TRUE(ClaimIds("c", 5).empty()) << "not after a reopen either";
  EXPECT_EQ(Get(id).status, LeadStatus::kNoAnswer);
}

TEST_F(StateMachineTest, SettingsInForceAtTheReportScheduleTheRetry) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  CampaignSettings s;
  s.retry_no_answer = 10 * kMinute;
  ASSERT_TRUE(store_->UpdateCampaign("c", s).ok());
  EXPECT_EQ(Report(id, 1, LeadStatus::kNoAnswer).due, T0 + 10 * kMinute);
  // A later change does not move the retry already scheduled.
  s.retry_no_answer = 5 * kHour;
  ASSERT_TRUE(store_->UpdateCampaign("c", s).ok());
  clock_.Set(T0 + 10 * kMinute);
  EXPECT_EQ(ClaimIds("c", 1), std::vector<LeadId>{id});
  ExpectVerifyOk();
}

// DESIGN.md: a retry happens when the campaign retries the outcome, the lead
// has attempts left and the delay has passed. A claim made while the rules
// said no must not lose the lead for good once the rules say yes again --
// and the live store and a reopened one must agree.
TEST_F(StateMachineTest, RetryDisabledThenReenabledIsClaimableAgain) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Report(id, 1, LeadStatus::kNoAnswer);  // due T0+1h
  CampaignSettings off;
  off.retry_no_answer = kNever;
  ASSERT_TRUE(store_->UpdateCampaign("c", off).ok());
  clock_.Set(T0 + 2 * kHour);
  EXPECT_TRUE(ClaimIds("c", 1).empty()) << "no_answer is not retried now";
  ASSERT_TRUE(store_->UpdateCampaign("c", CampaignSettings{}).ok());
  clock_.Set(T0 + 3 * kHour);
  std::vector<LeadId> live = ClaimIds("c", 1);
  EXPECT_EQ(live, std::vector<LeadId>{id}) << "retried again, with attempts left and the delay past";
  if (live.empty()) {
    // What a reopened store (queues rebuilt from the rows) says about the same log.
    Reopen();
    EXPECT_EQ(ClaimIds("c", 1), std::vector<LeadId>{id}) << "after a reopen";
  }
}

TEST_F(StateMachineTest, MaxAttemptsLoweredThenRaisedIsClaimableAgain) {
  MakeCampaign("c");
  LeadId id = Add("c", Phone(1));
  ClaimOne("c", id);
  Report(id, 1, LeadStatus::kNoAnswer);
  CampaignSettings one;
  one.max_attempts = 1;
  ASSERT_TRUE(store_->UpdateCampaign("c", one).ok());
  clock_.Set(T0 + 2 * kHour);
  EXPECT_TRUE(ClaimIds("c", 1).empty());
  EXPECT_EQ(Get(id).due, 0);
  ASSERT_TRUE(store_->UpdateCampaign("c", CampaignSettings{}).ok());
  EXPECT_EQ(Get(id).due, T0 + kHour) << "due again under the restored settings";
  std::vector<LeadId> live = ClaimIds("c", 1);
  EXPECT_EQ(live, std::vector<LeadId>{id}) << "1 of 3 attempts used, due since T0+1h";
  if (live.empty()) {
    Reopen();
    EXPECT_EQ(ClaimIds("c", 1), std::vector<LeadId>{id}) << "after a reopen";
  }
}

TEST_F(StateMachineTest, CampaignSettingsAreValidated) {
  Snapshot before = Take();
  CampaignSettings bad;
  bad.max_attempts = 0;
  ExpectRefused(store_->CreateCampaign("c", bad).status(), Status::Code::kInvalidArgument, "max_attempts");
  bad = {};
  bad.lease = 0;
  ExpectRefused(store_->CreateCampaign("c", bad).status(), Status::Code::kInvalidArgument, "lease");
  bad = {};
  bad.retry_voicemail = -5;
  ExpectRefused(store_->CreateCampaign("c", bad).status(), Status::Code::kInvalidArgument, "voicemail");
  ExpectRefused(store_->CreateCampaign("", {}).status(), Status::Code::kInvalidArgument, "empty");
  ExpectNothingWritten(before);
  MakeCampaign("c");
  before = Take();
  ExpectRefused(store_->CreateCampaign("c", {}).status(), Status::Code::kAlreadyExists, "already exists");
  ExpectRefused(store_->UpdateCampaign("nope", {}).status(), Status::Code::kNotFound, "nope");
  CampaignSettings zero;
  zero.max_attempts = 0;
  ExpectRefused(store_->UpdateCampaign("c", zero).status(), Status::Code::kInvalidArgument, "max_attempts");
  ExpectNothingWritten(before);
}

// ================================================================== Apply, directly

class ApplyTest : public ::testing::Test {
 protected:
  // Applies and expects acceptance; seq and ts advance.
  void Ok(const Event& e, Timestamp ts = -1) {
    if (ts < 0) ts = ts_;
    ts_ = ts;
    std::string_view rule;
    Status s = Apply(state_, e, state_.last_seq + 1, ts, &rule);
    ASSERT_TRUE(s.ok()) << "rule " << rule << ": " << s.ToString();
  }
  // What a refusal must leave alone (State itself is not copyable).
  struct Snap {
    SeqNo last_seq = 0;
    Timestamp last_ts = 0;
    Hash32 head{};
    std::vector<LeadRow> leads;
    std::vector<std::string> counts;
    std::vector<CampaignSettings> settings;
    std::vector<size_t> pending, scheduled;
    size_t dnc = 0, leases = 0, names = 0;
  };
  static Snap Take(const State& s) {
    Snap out;
    out.last_seq = s.last_seq;
    out.last_ts = s.last_ts;
    out.head = s.head;
    for (size_t i = 0; i < s.leads.size(); ++i) out.leads.push_back(s.leads[i]);
    for (const CampaignState& c : s.campaigns) {
      out.counts.push_back(Str(c.counts));
      out.settings.push_back(c.info.settings);
      out.pending.push_back(c.pending.size());
      out.scheduled.push_back(c.scheduled.size());
    }
    out.dnc = s.dnc.size();
    out.leases = s.leases.size();
    out.names = s.campaign_by_name.size();
    return out;
  }
  static void ExpectSame(const Snap& a, const Snap& b) {
    EXPECT_EQ(a.last_seq, b.last_seq);
    EXPECT_EQ(a.last_ts, b.last_ts);
    EXPECT_TRUE(a.head == b.head);
    ASSERT_EQ(a.leads.size(), b.leads.size());
    for (size_t i = 0; i < a.leads.size(); ++i) EXPECT_TRUE(a.leads[i].SameState(b.leads[i])) << "lead " << i + 1;
    EXPECT_EQ(a.counts, b.counts);
    EXPECT_TRUE(a.settings == b.settings);
    EXPECT_EQ(a.pending, b.pending);
    EXPECT_EQ(a.scheduled, b.scheduled);
    EXPECT_EQ(a.dnc, b.dnc);
    EXPECT_EQ(a.leases, b.leases);
    EXPECT_EQ(a.names, b.names);
  }
  // Applies and expects refusal under `rule` with `code`; the state must not change.
  void Refused(const Event& e, std::string_view want_rule, Status::Code code, Timestamp ts = -1) {
    if (ts < 0) ts = ts_;
    Snap before = Take(state_);
    std::string_view rule;
    Status s = Apply(state_, e, state_.last_seq + 1, ts, &rule);
    EXPECT_FALSE(s.ok()) << "accepted an event that breaks " << want_rule;
    EXPECT_EQ(rule, want_rule) << s.ToString();
    EXPECT_EQ(Status::CodeName(s.code()), std::string(Status::CodeName(code))) << s.ToString();
    EXPECT_FALSE(s.message().empty());
    ExpectSame(before, Take(state_));
  }

  static Event CampaignEv(CampaignId id, std::string_view name, CampaignSettings s = {}) {
    Event e;
    e.type = EventType::kCampaignCreated;
    e.campaign = id;
    e.name = name;
    e.settings = s;
    return e;
  }
  static Event Added(LeadId lead, CampaignId c, std::string_view phone, LeadStatus st = LeadStatus::kPending) {
    Event e;
    e.type = EventType::kLeadAdded;
    e.lead = lead;
    e.campaign = c;
    e.phone = phone;
    e.status = st;
    return e;
  }
  static Event Claimed(LeadId lead, CampaignId c, uint32_t attempt, Timestamp lease_until) {
    Event e;
    e.type = EventType::kLeadClaimed;
    e.lead = lead;
    e.campaign = c;
    e.attempt = attempt;
    e.lease_until = lease_until;
    e.dialer = "d";
    return e;
  }
  static Event Reported(LeadId lead, CampaignId c, uint32_t attempt, LeadStatus outcome) {
    Event e;
    e.type = EventType::kOutcomeReported;
    e.lead = lead;
    e.campaign = c;
    e.attempt = attempt;
    e.status = outcome;
    return e;
  }
  static Event Expired(LeadId lead, CampaignId c, uint32_t attempt) {
    Event e;
    e.type = EventType::kLeaseExpired;
    e.lead = lead;
    e.campaign = c;
    e.attempt = attempt;
    return e;
  }
  static Event PhoneDnc(std::string_view phone) {
    Event e;
    e.type = EventType::kPhoneMarkedDoNotCall;
    e.phone = phone;
    return e;
  }
  static Event LeadDnc(LeadId lead, CampaignId c) {
    Event e;
    e.type = EventType::kLeadMarkedDoNotCall;
    e.lead = lead;
    e.campaign = c;
    return e;
  }
  static Event Requeued(LeadId lead, CampaignId c) {
    Event e;
    e.type = EventType::kLeadRequeued;
    e.lead = lead;
    e.campaign = c;
    return e;
  }
  static Event Updated(CampaignId c, CampaignSettings s) {
    Event e;
    e.type = EventType::kCampaignUpdated;
    e.campaign = c;
    e.settings = s;
    return e;
  }

  // Campaign 1 with default settings and leads 1, 2 (pending).
  void Basic() {
    Ok(CampaignEv(1, "c"));
    Ok(Added(1, 1, p1_));
    Ok(Added(2, 1, p2_));
  }

  State state_;
  Timestamp ts_ = T0;
  std::string p1_ = Phone(1), p2_ = Phone(2), p3_ = Phone(3);
};

TEST_F(ApplyTest, AcceptedEventsAdvanceSeqAndTime) {
  Basic();
  EXPECT_EQ(state_.last_seq, 3u);
  EXPECT_EQ(state_.last_ts, T0);
  Ok(Claimed(1, 1, 1, T0 + kHour + 15 * kMinute), T0 + kHour);
  EXPECT_EQ(state_.last_seq, 4u);
  EXPECT_EQ(state_.last_ts, T0 + kHour);
  const LeadRow& row = *state_.lead(1);
  EXPECT_EQ(row.status, LeadStatus::kCalling);
  EXPECT_EQ(row.attempt, 1u);
  EXPECT_TRUE(row.call_open());
  EXPECT_EQ(row.when, T0 + kHour + 15 * kMinute);
  EXPECT_EQ(Str(state_.campaigns[0].counts), Str(Counts(1, 1, 0, 0, 0, 0, 0)));
}

TEST_F(ApplyTest, ClaimOfADoNotCallLeadIsRefused) {
  Basic();
  Ok(LeadDnc(1, 1));
  Refused(Claimed(1, 1, 1, T0 + kHour), "do_not_call_claimed", Status::Code::kIllegalTransition);
}

TEST_F(ApplyTest, ClaimOfALeadWhosePhoneIsListedIsRefused) {
  Basic();
  // A log where the phone record was not followed by the lead's move (a
  // tampered or buggy log): the lead is still pending, its phone is listed.
  Ok(PhoneDnc(p1_));
  ASSERT_EQ(state_.lead(1)->status, LeadStatus::kPending);
  Refused(Claimed(1, 1, 1, T0 + kHour), "do_not_call_claimed", Status::Code::kIllegalTransition);
  // Its requeue once it has an outcome is refused too.
  Ok(Claimed(2, 1, 1, T0 + kHour));
  Ok(Reported(2, 1, 1, LeadStatus::kCompleted));
  Ok(PhoneDnc(p2_));
  Refused(Requeued(2, 1), "do_not_call_listed", Status::Code::kIllegalTransition);
}

TEST_F(ApplyTest, LeadAddedWithAListedPhoneMustBeDoNotCall) {
  Ok(CampaignEv(1, "c"));
  Ok(PhoneDnc(p1_));
  Refused(Added(1, 1, p1_, LeadStatus::kPending), "do_not_call_added_callable", Status::Code::kIllegalTransition);
  Refused(Added(1, 1, p2_, LeadStatus::kDoNotCall), "initial_status", Status::Code::kIllegalTransition);
  Refused(Added(1, 1, p2_, LeadStatus::kCalling), "initial_status", Status::Code::kIllegalTransition);
  Ok(Added(1, 1, p1_, LeadStatus::kDoNotCall));
  EXPECT_EQ(state_.lead(1)->status, LeadStatus::kDoNotCall);
  EXPECT_EQ(state_.campaigns[0].counts[LeadStatus::kDoNotCall], 1u);
}

TEST_F(ApplyTest, ARowHoldsTheWidestValuesItsFieldsAdmit) {
  Ok(CampaignEv(1, "c"));
  // The last seq a lead can be added at is kept whole; the next is refused,
  // not truncated into another record's seq.
  state_.last_seq = LeadRow::kMaxAddedSeq - 1;
  Ok(Added(1, 1, "+999999999999999"));  // 15 digits: the longest E.164 number
  EXPECT_EQ(state_.lead(1)->added_seq, LeadRow::kMaxAddedSeq);
  EXPECT_EQ(state_.lead(1)->phone, 999'999'999'999'999ULL);
  Refused(Added(2, 1, p1_), "log_too_long", Status::Code::kNotSupported);
}

TEST_F(ApplyTest, TheBudgetCountsClaimsAndRestartsAtARequeue) {
  CampaignSettings s;
  s.max_attempts = 3;
  s.retry_no_answer = kMinute;
  Ok(CampaignEv(1, "c", s));
  Ok(Added(1, 1, p1_));
  Timestamp t = ts_;
  for (uint32_t a = 1; a <= 3; ++a) {
    Ok(Claimed(1, 1, a, t + kHour), t);
    EXPECT_EQ(state_.lead(1)->attempts_used(), a);
    Ok(Reported(1, 1, a, LeadStatus::kNoAnswer), t);
    t += kMinute;
  }
  Refused(Claimed(1, 1, 4, t + kHour), "attempt_budget", Status::Code::kIllegalTransition, t);
  Ok(Requeued(1, 1), t);
  EXPECT_EQ(state_.lead(1)->attempts_used(), 0u);
  EXPECT_EQ(state_.lead(1)->budget_start(), 3u);
  Ok(Claimed(1, 1, 4, t + kHour), t);
  EXPECT_EQ(state_.lead(1)->attempts_used(), 1u);
  EXPECT_EQ(state_.lead(1)->budget_start(), 3u);
}

TEST_F(ApplyTest, IdsAndPhonesOfAddedLeads) {
  Ok(CampaignEv(1, "c"));
  Refused(CampaignEv(3, "x"), "campaign_id_order", Status::Code::kIllegalTransition);
  Refused(CampaignEv(2, "c"), "campaign_name_taken", Status::Code::kAlreadyExists);
  Refused(Added(2, 1, p1_), "lead_id_order", Status::Code::kIllegalTransition);
  Refused(Added(1, 2, p1_), "unknown_campaign", Status::Code::kNotFound);
  Refused(Added(1, 1, "14152000001"), "invalid_phone", Status::Code::kInvalidArgument);
  Ok(Added(1, 1, p1_));
  Refused(Added(2, 1, p1_), "duplicate_phone", Status::Code::kAlreadyExists);
  Ok(CampaignEv(2, "d"));
  Ok(Added(2, 2, p1_));  // the same phone in another campaign
}

TEST_F(ApplyTest, AttemptNumbersAreConsecutiveAndNeverReused) {
  CampaignSettings s;
  s.retry_no_answer = 0;
  Ok(CampaignEv(1, "c", s));
  Ok(Added(1, 1, p1_));
  Refused(Claimed(1, 1, 2, T0 + kHour), "attempt_number", Status::Code::kIllegalTransition);
  Refused(Claimed(1, 1, 0, T0 + kHour), "attempt_number", Status::Code::kIllegalTransition);
  Ok(Claimed(1, 1, 1, T0 + kHour));
  Ok(Reported(1, 1, 1, LeadStatus::kNoAnswer));
  Refused(Claimed(1, 1, 1, T0 + kHour), "attempt_number", Status::Code::kIllegalTransition);
  Refused(Claimed(1, 1, 3, T0 + kHour), "attempt_number", Status::Code::kIllegalTransition);
  Ok(Claimed(1, 1, 2, T0 + kHour));
  Ok(Reported(1, 1, 2, LeadStatus::kCompleted));
  Ok(Requeued(1, 1));
  EXPECT_EQ(state_.lead(1)->attempts_used(), 0u);
  Refused(Claimed(1, 1, 1, T0 + kHour), "attempt_number", Status::Code::kIllegalTransition);
  Ok(Claimed(1, 1, 3, T0 + kHour));
  EXPECT_EQ(state_.lead(1)->attempt, 3u);
  EXPECT_EQ(state_.lead(1)->attempts_used(), 1u);
}

TEST_F(ApplyTest, RecordTimesNeverGoBackwards) {
  Basic();
  Ok(Claimed(1, 1, 1, T0 + 2 * kHour), T0 + kHour);
  Refused(Reported(1, 1, 1, LeadStatus::kCompleted), "time_order", Status::Code::kIllegalTransition, T0 + kHour - 1);
  Refused(CampaignEv(2, "later"), "time_order", Status::Code::kIllegalTransition, T0);
  Ok(Reported(1, 1, 1, LeadStatus::kCompleted), T0 + kHour);  // equal is fine
}

TEST_F(ApplyTest, LeaseExpiresOnlyOnceItHasRunOut) {
  Basic();
  Ok(Claimed(1, 1, 1, T0 + 15 * kMinute));
  Refused(Expired(1, 1, 1), "lease_not_expired", Status::Code::kIllegalTransition, T0 + 15 * kMinute - 1);
  Refused(Expired(1, 1, 2), "not_current_attempt", Status::Code::kIllegalTransition, T0 + 15 * kMinute);
  Ok(Expired(1, 1, 1), T0 + 15 * kMinute);
  EXPECT_EQ(state_.lead(1)->status, LeadStatus::kNoAnswer);
  EXPECT_EQ(state_.lead(1)->last_outcome, LeadStatus::kNoAnswer);
  EXPECT_EQ(state_.lead(1)->when, T0 + 15 * kMinute + kHour);
  Refused(Expired(1, 1, 1), "attempt_finished", Status::Code::kConflict, T0 + kHour);
  Refused(Expired(2, 1, 1), "not_current_attempt", Status::Code::kIllegalTransition, T0 + kHour);
}

TEST_F(ApplyTest, ClaimLeaseMustEndAfterItStarts) {
  Basic();
  Refused(Claimed(1, 1, 1, T0), "invalid_lease", Status::Code::kIllegalTransition);
  Refused(Claimed(1, 1, 1, T0 - 1), "invalid_lease", Status::Code::kIllegalTransition);
}

TEST_F(ApplyTest, RetryRulesAreCheckedAtTheClaim) {
  CampaignSettings s;
  s.max_attempts = 2;
  s.retry_no_answer = kHour;
  s.retry_failed = kNever;
  Ok(CampaignEv(1, "c", s));
  Ok(Added(1, 1, p1_));
  Ok(Added(2, 1, p2_));
  Ok(Claimed(1, 1, 1, T0 + kMinute));
  Ok(Reported(1, 1, 1, LeadStatus::kNoAnswer));  // due T0+1h
  Refused(Claimed(1, 1, 2, T0 + 2 * kHour), "retry_too_early", Status::Code::kIllegalTransition, T0 + kHour - 1);
  Ok(Claimed(1, 1, 2, T0 + 2 * kHour), T0 + kHour);
  Ok(Reported(1, 1, 2, LeadStatus::kNoAnswer));  // 2 of 2: exhausted
  EXPECT_EQ(state_.lead(1)->when, 0);
  Refused(Claimed(1, 1, 3, T0 + 5 * kHour), "attempt_budget", Status::Code::kIllegalTransition, T0 + 4 * kHour);
  // failed is not retried by this campaign.
  Ok(Claimed(2, 1, 1, T0 + 5 * kHour), T0 + 4 * kHour);
  Ok(Reported(2, 1, 1, LeadStatus::kFailed));
  Refused(Claimed(2, 1, 2, T0 + 9 * kHour), "retry_disabled", Status::Code::kIllegalTransition, T0 + 8 * kHour);
  // Turned on later: the lead had no retry scheduled when it failed.
  s.retry_failed = kMinute;
  Ok(Updated(1, s));
  Refused(Claimed(2, 1, 2, T0 + 9 * kHour), "retry_not_scheduled", Status::Code::kIllegalTransition, T0 + 8 * kHour);
  // Claims from completed and calling are illegal transitions.
  Ok(Added(3, 1, p3_));
  Ok(Claimed(3, 1, 1, T0 + 9 * kHour), T0 + 8 * kHour);
  Refused(Claimed(3, 1, 2, T0 + 9 * kHour), "illegal_transition", Status::Code::kIllegalTransition);
  Ok(Reported(3, 1, 1, LeadStatus::kCompleted));
  Refused(Claimed(3, 1, 2, T0 + 9 * kHour), "illegal_transition", Status::Code::kIllegalTransition);
}

TEST_F(ApplyTest, ReportsMustNameTheOpenAttempt) {
  Basic();
  Refused(Reported(1, 1, 1, LeadStatus::kCompleted), "not_current_attempt", Status::Code::kIllegalTransition);
  Ok(Claimed(1, 1, 1, T0 + kHour));
  Refused(Reported(1, 1, 2, LeadStatus::kCompleted), "not_current_attempt", Status::Code::kIllegalTransition);
  Refused(Reported(1, 1, 1, LeadStatus::kPending), "invalid_outcome", Status::Code::kInvalidArgument);
  Refused(Reported(1, 1, 1, LeadStatus::kDoNotCall), "invalid_outcome", Status::Code::kInvalidArgument);
  Refused(Reported(1, 2, 1, LeadStatus::kCompleted), "campaign_mismatch", Status::Code::kIllegalTransition);
  Refused(Reported(9, 1, 1, LeadStatus::kCompleted), "unknown_lead", Status::Code::kNotFound);
  Ok(Reported(1, 1, 1, LeadStatus::kCompleted));
  // In the log even the same outcome twice is refused: the API's duplicate
  // no-op writes no second record.
  Refused(Reported(1, 1, 1, LeadStatus::kCompleted), "attempt_finished", Status::Code::kConflict);
  Refused(Reported(1, 1, 1, LeadStatus::kFailed), "attempt_finished", Status::Code::kConflict);
}

TEST_F(ApplyTest, DoNotCallIsAbsorbing) {
  Basic();
  Ok(Claimed(1, 1, 1, T0 + kHour));
  Ok(LeadDnc(1, 1));
  EXPECT_EQ(state_.lead(1)->status, LeadStatus::kDoNotCall);
  EXPECT_TRUE(state_.lead(1)->call_open());
  Refused(LeadDnc(1, 1), "already_do_not_call", Status::Code::kIllegalTransition);
  // The outcome of the call in progress is recorded; the status stays.
  Ok(Reported(1, 1, 1, LeadStatus::kNoAnswer));
  EXPECT_EQ(state_.lead(1)->status, LeadStatus::kDoNotCall);
  EXPECT_EQ(state_.lead(1)->when, 0);
  EXPECT_EQ(Str(state_.campaigns[0].counts), Str(Counts(1, 0, 0, 0, 0, 0, 1)));
  Refused(Requeued(1, 1), "illegal_transition", Status::Code::kIllegalTransition, T0 + 10 * kHour);
  Refused(Claimed(1, 1, 2, T0 + 11 * kHour), "do_not_call_claimed", Status::Code::kIllegalTransition,
          T0 + 10 * kHour);
  Ok(PhoneDnc(p2_));
  Refused(PhoneDnc(p2_), "already_do_not_call", Status::Code::kIllegalTransition);
  Refused(PhoneDnc("+0123"), "invalid_phone", Status::Code::kInvalidArgument);
}

TEST_F(ApplyTest, RequeueOnlyFromAFinishedStatus) {
  Basic();
  Refused(Requeued(1, 1), "illegal_transition", Status::Code::kIllegalTransition);
  Ok(Claimed(1, 1, 1, T0 + kHour));
  Refused(Requeued(1, 1), "illegal_transition", Status::Code::kIllegalTransition);
  Refused(Requeued(1, 2), "campaign_mismatch", Status::Code::kIllegalTransition);
  Ok(Reported(1, 1, 1, LeadStatus::kVoicemail));
  Ok(Requeued(1, 1), T0 + kMinute);
  EXPECT_EQ(state_.lead(1)->status, LeadStatus::kPending);
  EXPECT_EQ(state_.lead(1)->when, T0 + kMinute);
  EXPECT_EQ(state_.lead(1)->budget_start(), 1u);
  EXPECT_EQ(state_.lead(1)->attempts_used(), 0u);
}

TEST_F(ApplyTest, CampaignUpdatesAreValidated) {
  Basic();
  CampaignSettings bad;
  bad.max_attempts = kMaxAttempts + 1;
  Refused(Updated(1, bad), "invalid_settings", Status::Code::kInvalidArgument);
  Refused(Updated(7, {}), "unknown_campaign", Status::Code::kNotFound);
  Refused(CampaignEv(2, std::string_view("bad\x01name")), "invalid_campaign", Status::Code::kInvalidArgument);
  bad = {};
  bad.lease = 8 * 24 * kHour;
  Refused(CampaignEv(2, "x", bad), "invalid_settings", Status::Code::kInvalidArgument);
}

TEST_F(ApplyTest, UnknownEventTypeIsCorruption) {
  Basic();
  Event e;
  e.type = static_cast<EventType>(42);
  Refused(e, "unknown_event", Status::Code::kCorruption);
}

}  // namespace
}  // namespace leadlog
