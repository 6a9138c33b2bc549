// leadlog_crash_child: the process that tests/crash_test.cc kills.
//
// It is an ordinary embedding program (public API only) that writes to a
// Store as fast as it can and, after every call that returned, appends one
// line to an acknowledgement file saying what was acknowledged. The parent
// kills it with SIGKILL at a random moment, reopens the database and checks
// that everything acknowledged is there.
//
//   leadlog_crash_child ops    DB ACKS buffered|synced SEED [CHECKPOINT_EVERY] [MAX_OPS] [crash]
//   leadlog_crash_child import DB ACKS buffered|synced CSV CHUNK CAMPAIGN
//   leadlog_crash_child fill   DB ACKS buffered|synced GO_FILE
//
// ops:    random imports, claims, reports (and repeated reports), expiries,
//         do-not-call marks of phones and leads, requeues, settings changes,
//         explicit checkpoints, rebuilds (full checkpoints) and clean
//         close/reopen cycles, on a clock that moves forward by random steps.
//         CHECKPOINT_EVERY=0 means no checkpoints at all (no automatic or
//         explicit ones, no rebuilds, no reopens) until the process ends.
//         Runs until killed, or MAX_OPS operations (then closes cleanly, or
//         with `crash` ends the process without closing the store).
// fill:   writes until the disk is full (see RunFill), for the full-disk test
//         of tests/hostile_input_test.cc, which runs it in a tiny tmpfs.
// import: parses CSV and adds its leads to CAMPAIGN (created if missing) with
//         one AddLeads call per CHUNK rows; exits 0 when done. Run again after
//         a kill, it must add exactly the leads that are still missing.
//
// The acknowledgement file (one line per event, fields separated by spaces):
//   O <seq> <head>                     opened; the log's head
//   B <n> <op> [events=K] [fresh=P,..] op n is about to be called; K is the
//                                      exact number of log records it writes
//                                      (known for imports), P the phones that
//                                      it adds (all or none must be there)
//   A <n> <op> <seq> <head> FACT...    op n returned OK; the head after it
//   E <n> <op> <code>                  op n was refused (nothing written)
// Facts, each true forever once acknowledged:
//   L<id>=<phone>        lead id exists with that phone
//   C<id>=<attempt>      lead was claimed for that attempt
//   R<id>=<attempt>:<o>  outcome o reported for that attempt
//   X<id>=<attempt>      that attempt's lease was expired
//   P<phone>             phone is on the do-not-call list
//   D<id>                lead is do_not_call
//   Q<id>                lead was requeued
//   K<name>              campaign exists
//
// Each line goes out with one write(2) as soon as the call returns: the line
// is then in the kernel's page cache, which a process kill cannot lose, so
// the file is exactly the set of acknowledgements the dead process had
// received. (An fsync would matter only for power loss, which this harness
// does not simulate.)
//
// Exit codes: 0 done, 2 an unexpected failure (I/O error, corruption, a
// result that contradicts the child's exact model of the database), 64 usage.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "leadlog/leadlog.h"

namespace {

using namespace leadlog;  // NOLINT

int ack_fd = -1;

void WriteLine(const std::string& text) {
  std::string line = text + "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(ack_fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "crash_child: cannot write the acknowledgement file: %s\n", std::strerror(errno));
      std::_Exit(2);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "crash_child: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

[[noreturn]] void DieStatus(const std::string& what, const Status& s) { Die(what + ": " + s.ToString()); }

std::string HeadText(const Store& store) {
  Digest d = store.Head();
  return std::to_string(d.seq) + " " + d.Hex();
}

Durability ParseDurability(const char* text) {
  if (std::strcmp(text, "buffered") == 0) return Durability::kBuffered;
  if (std::strcmp(text, "synced") == 0) return Durability::kSynced;
  Die(std::string("durability must be buffered or synced, not ") + text);
}

// ---------------------------------------------------------------- ops mode

constexpr Timestamp kStart = 1796378400LL * kSecond;  // 2026-12-04T10:00:00Z
const char* const kFirstNames[] = {"Ada", "José", "Zoë", "Mia", "Noah", "Ørjan", "李", ""};

struct LeadModel {
  size_t campaign = 0;  // index into campaigns
  std::string phone;
  LeadStatus status = LeadStatus::kPending;
  uint32_t attempt = 0;
};

class OpsChild {
 public:
  OpsChild(std::string db, Durability durability, uint64_t seed, uint64_t checkpoint_every)
      : db_(std::move(db)), durability_(durability), rng_(seed), checkpoint_every_(checkpoint_every) {}

  // With crash_at_end, after max_ops the process ends without closing the
  // store (no final checkpoint): the log then has a tail after the last
  // checkpoint, as after a crash. tests/corruption_test.cc builds on that.
  void Run(uint64_t max_ops, bool crash_at_end = false) {
    OpenAndScan();
    if (campaigns_.empty()) {
      CampaignSettings quick;
      quick.max_attempts = 4;
      quick.retry_no_answer = 10 * kMinute;
      quick.retry_voicemail = 20 * kMinute;
      quick.retry_failed = 30 * kMinute;
      quick.lease = 5 * kMinute;
      CreateCampaign("c1", CampaignSettings{});
      CreateCampaign("c2", quick);
    }
    for (uint64_t i = 0; max_ops == 0 || i < max_ops; ++i) {
      now_ += static_cast<Duration>(Uniform(0, 8 * 60)) * kSecond;
      // Expire first, so that no lease ever runs out unended before a newer
      // record (the audit's lease_not_ended rule).
      Expire();
      int dice = static_cast<int>(Uniform(0, 999));
      if (dice < 160) {
        Import();
      } else if (dice < 440) {
        Claim();
      } else if (dice < 740) {
        Report();
      } else if (dice < 780) {
        PhoneDoNotCall();
      } else if (dice < 810) {
        LeadDoNotCall();
      } else if (dice < 880) {
        Requeue();
      } else if (dice < 900) {
        UpdateSettings();
      } else if (dice < 947 && checkpoint_every_ == 0) {
        continue;  // no checkpoints at all: the log after the last one stays a tail
      } else if (dice < 940) {
        Simple("checkpoint", [&] { return store_->Checkpoint(); });
      } else if (dice < 945) {
        // A full checkpoint: views deleted first, rewritten, meta record last.
        Simple("rebuild", [&] { return store_->Rebuild(); });
      } else if (dice < 947) {
        Begin("reopen", "events=0");
        store_.reset();  // a clean close writes the final checkpoint
        OpenAndScan();
        Ack("reopen", "");
      } else {
        Report(/*repeat=*/true);
      }
    }
    if (crash_at_end) {
      WriteLine("DONE");
      std::_Exit(0);
    }
    store_.reset();
    if (std::getenv("LEADLOG_CRASH_CHILD_TIMING") != nullptr) {
      for (const auto& [op, t] : timing_) {
        std::fprintf(stderr, "%-14s %6llu ops %9.3f ms total %8.1f us/op\n", op.c_str(),
                     static_cast<unsigned long long>(t.first),
                     std::chrono::duration<double, std::milli>(t.second).count(),
                     std::chrono::duration<double, std::micro>(t.second).count() / static_cast<double>(t.first));
      }
    }
  }

 private:
  uint64_t Uniform(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }

  void OpenAndScan() {
    Options options;
    options.durability = durability_;
    options.checkpoint_every_events = checkpoint_every_;
    Timestamp* now = &now_;
    options.clock = [now] { return *now; };
    Status s = Store::Open(options, db_, &store_);
    if (!s.ok()) DieStatus("open " + db_, s);
    WriteLine("O " + HeadText(*store_));

    // The child is the only writer, so its model of the database is exact.
    campaigns_.clear();
    phones_in_.clear();
    leads_.clear();
    dnc_.clear();
    open_.clear();
    for (const Campaign& c : store_->ListCampaigns()) {
      campaigns_.push_back(c.name);
      phones_in_.emplace_back();
    }
    for (LeadId id = 1;; ++id) {
      Result<LeadInfo> info = store_->GetLead(id);
      if (!info.ok()) {
        if (!info.status().IsNotFound()) DieStatus("scan lead " + std::to_string(id), info.status());
        break;
      }
      LeadModel m;
      m.campaign = info->campaign - 1;
      m.phone = info->profile.phone;
      m.status = info->status;
      m.attempt = info->attempts;
      if (info->lease_until != 0) open_.insert(id);  // a call is open
      phones_in_.at(m.campaign).insert(m.phone);
      NotePhone(m.phone);
      leads_.push_back(m);
    }
    LogFilter dnc_filter;
    dnc_filter.any_type = false;
    dnc_filter.type = EventType::kPhoneMarkedDoNotCall;
    Status scan = store_->ScanLog(dnc_filter, [&](const LoggedEvent& e) {
      dnc_.insert(e.profile.phone);
      NotePhone(e.profile.phone);
      return true;
    });
    if (!scan.ok()) DieStatus("scan the do-not-call marks", scan);
    SeqNo last = store_->LastSeq();
    now_ = kStart;
    if (last > 0) {
      LogFilter f;
      f.from = last;
      f.to = last;
      scan = store_->ScanLog(f, [&](const LoggedEvent& e) {
        now_ = std::max(now_, e.ts);
        return true;
      });
      if (!scan.ok()) DieStatus("read the newest record", scan);
    }
  }

  // Fresh phones: +1415 2000000.. for leads, +1212 2000000.. for phones that
  // are put on the do-not-call list before any lead has them.
  void NotePhone(const std::string& phone) {
    if (phone.size() != 12) return;
    uint64_t n = std::strtoull(phone.c_str() + 5, nullptr, 10);
    if (phone.compare(0, 5, "+1415") == 0) next_lead_phone_ = std::max(next_lead_phone_, n + 1);
    if (phone.compare(0, 5, "+1212") == 0) next_dnc_phone_ = std::max(next_dnc_phone_, n + 1);
  }
  std::string FreshLeadPhone() { return "+1415" + std::to_string(next_lead_phone_++); }
  std::string FreshDncPhone() { return "+1212" + std::to_string(next_dnc_phone_++); }

  void Begin(const std::string& op, const std::string& extra = "") {
    ++op_number_;
    op_started_ = std::chrono::steady_clock::now();
    WriteLine("B " + std::to_string(op_number_) + " " + op + (extra.empty() ? "" : " " + extra));
  }
  void Ack(const std::string& op, const std::string& facts) {
    auto& [count, total] = timing_[op];
    ++count;
    total += std::chrono::steady_clock::now() - op_started_;
    WriteLine("A " + std::to_string(op_number_) + " " + op + " " + HeadText(*store_) + facts);
  }
  // A refusal is fine (the model picked a lead the engine will not move);
  // anything that says the store is unwell is not.
  void Refused(const std::string& op, const Status& s) {
    switch (s.code()) {
      case Status::Code::kIllegalTransition:
      case Status::Code::kConflict:
      case Status::Code::kNotFound:
      case Status::Code::kInvalidArgument:
      case Status::Code::kAlreadyExists:
        WriteLine("E " + std::to_string(op_number_) + " " + op + " " + Status::CodeName(s.code()));
        return;
      default:
        DieStatus(op, s);
    }
  }

  template <class Fn>
  void Simple(const std::string& op, Fn&& fn) {
    Begin(op, "events=0");
    Status s = fn();
    if (!s.ok()) DieStatus(op, s);
    Ack(op, "");
  }

  void CreateCampaign(const std::string& name, const CampaignSettings& settings) {
    Begin("campaign", "events=1");
    Result<Campaign> r = store_->CreateCampaign(name, settings, now_);
    if (!r.ok()) DieStatus("create campaign " + name, r.status());
    campaigns_.push_back(name);
    phones_in_.emplace_back();
    Ack("campaign", " K" + name);
  }

  size_t RandomCampaign() { return Uniform(0, campaigns_.size() - 1); }

  void Import() {
    size_t c = RandomCampaign();
    size_t n = Uniform(1, 12);
    std::vector<LeadInput> rows;
    std::vector<std::string> added;  // the E.164 phones that must become leads, in row order
    std::unordered_set<std::string> in_batch;
    for (size_t i = 0; i < n; ++i) {
      LeadInput in;
      int kind = static_cast<int>(Uniform(0, 99));
      if (kind < 72) {
        in.phone = FreshLeadPhone();
      } else if (kind < 80) {
        in.phone = Uniform(0, 1) ? "+1555" + std::to_string(Uniform(0, 9)) : "call me maybe";
      } else if (kind < 88 && !phones_in_[c].empty()) {
        // A duplicate of a lead already in the campaign.
        auto it = phones_in_[c].begin();
        std::advance(it, static_cast<long>(Uniform(0, std::min<size_t>(phones_in_[c].size(), 50) - 1)));
        in.phone = *it;
      } else if (kind < 94 && !dnc_.empty()) {
        // A listed phone: added directly as do_not_call (unless already in the campaign).
        auto it = dnc_.begin();
        std::advance(it, static_cast<long>(Uniform(0, std::min<size_t>(dnc_.size(), 50) - 1)));
        in.phone = *it;
      } else if (!leads_.empty()) {
        // A number that is a lead of some campaign (maybe another one).
        in.phone = leads_[Uniform(0, leads_.size() - 1)].phone;
      } else {
        in.phone = FreshLeadPhone();
      }
      in.first_name = kFirstNames[Uniform(0, std::size(kFirstNames) - 1)];
      if (Uniform(0, 3) == 0) in.email = "lead" + std::to_string(i) + "@example.com";
      if (Uniform(0, 3) == 0) in.custom.push_back({"account", "A-" + std::to_string(Uniform(0, 99999))});
      bool valid = in.phone.size() == 12 && in.phone[0] == '+';
      if (valid && !phones_in_[c].count(in.phone) && in_batch.insert(in.phone).second) added.push_back(in.phone);
      rows.push_back(std::move(in));
    }
    std::string fresh;
    for (const std::string& p : added) fresh += (fresh.empty() ? "" : ",") + p;
    Begin("import", "c=" + campaigns_[c] + " events=" + std::to_string(added.size()) + " fresh=" + fresh);
    Result<AddLeadsResult> r = store_->AddLeads(campaigns_[c], rows, {}, now_);
    if (!r.ok()) DieStatus("import", r.status());
    if (r->imported != added.size()) {
      Die("import: the engine added " + std::to_string(r->imported) + " leads, the child expected " +
          std::to_string(added.size()));
    }
    std::string facts;
    for (size_t i = 0; i < rows.size(); ++i) {
      LeadId id = r->ids[i];
      if (id == 0) continue;
      if (id != leads_.size() + 1) Die("import: lead ids are not dense");
      LeadModel m;
      m.campaign = c;
      m.phone = rows[i].phone;
      m.status = dnc_.count(m.phone) ? LeadStatus::kDoNotCall : LeadStatus::kPending;
      leads_.push_back(m);
      phones_in_[c].insert(m.phone);
      facts += " L" + std::to_string(id) + "=" + m.phone;
    }
    Ack("import", facts);
  }

  void Claim() {
    size_t c = RandomCampaign();
    Begin("claim", "c=" + campaigns_[c]);
    Result<std::vector<ClaimedLead>> r = store_->Claim(campaigns_[c], Uniform(1, 6), "dialer-1", now_);
    if (!r.ok()) return Refused("claim", r.status());
    std::string facts;
    for (const ClaimedLead& cl : *r) {
      LeadModel& m = leads_.at(cl.lead - 1);
      if (m.status == LeadStatus::kDoNotCall || dnc_.count(m.phone)) {
        Die("claim handed out do-not-call lead " + std::to_string(cl.lead));
      }
      m.status = LeadStatus::kCalling;
      m.attempt = cl.attempt;
      open_.insert(cl.lead);
      facts += " C" + std::to_string(cl.lead) + "=" + std::to_string(cl.attempt);
    }
    Ack("claim", facts);
  }

  void Report(bool repeat = false) {
    LeadId id = 0;
    uint32_t attempt = 0;
    LeadStatus outcome = LeadStatus::kCompleted;
    if (repeat) {
      if (last_report_lead_ == 0) return;
      id = last_report_lead_;
      attempt = last_report_attempt_;
      outcome = last_report_outcome_;
    } else {
      if (open_.empty()) return;
      auto it = open_.begin();
      std::advance(it, static_cast<long>(Uniform(0, std::min<size_t>(open_.size(), 20) - 1)));
      id = *it;
      attempt = leads_[id - 1].attempt;
      static const LeadStatus kOutcomes[] = {LeadStatus::kCompleted, LeadStatus::kNoAnswer, LeadStatus::kVoicemail,
                                             LeadStatus::kFailed};
      outcome = kOutcomes[Uniform(0, 3)];
    }
    std::string op = repeat ? "report-again" : "report";
    SeqNo before = store_->LastSeq();
    Begin(op, repeat ? "events=0" : "events=1");
    Result<LeadInfo> r = store_->Report(id, attempt, outcome, "outcome from the dialer", now_);
    if (!r.ok()) {
      if (repeat) DieStatus("a repeated report must be a no-op", r.status());
      return Refused(op, r.status());
    }
    if (repeat && store_->LastSeq() != before) Die("a repeated report wrote a record");
    LeadModel& m = leads_[id - 1];
    open_.erase(id);
    if (m.status != LeadStatus::kDoNotCall) m.status = outcome;
    last_report_lead_ = id;
    last_report_attempt_ = attempt;
    last_report_outcome_ = outcome;
    Ack(op, " R" + std::to_string(id) + "=" + std::to_string(attempt) + ":" + std::string(LeadStatusName(outcome)));
  }

  void Expire() {
    Begin("expire");
    Result<std::vector<LeadInfo>> r = store_->Expire(now_);
    if (!r.ok()) DieStatus("expire", r.status());
    std::string facts;
    for (const LeadInfo& info : *r) {
      LeadModel& m = leads_.at(info.id - 1);
      open_.erase(info.id);
      if (m.status != LeadStatus::kDoNotCall) m.status = LeadStatus::kNoAnswer;
      facts += " X" + std::to_string(info.id) + "=" + std::to_string(info.attempts);
    }
    Ack("expire", facts);
  }

  void PhoneDoNotCall() {
    std::string phone =
        !leads_.empty() && Uniform(0, 1) == 0 ? leads_[Uniform(0, leads_.size() - 1)].phone : FreshDncPhone();
    Begin("dnc");
    Result<DncResult> r = store_->AddDoNotCall(phone, "asked not to be called", "", now_);
    if (!r.ok()) DieStatus("dnc add " + phone, r.status());
    dnc_.insert(phone);
    std::string facts = " P" + phone;
    for (LeadId id : r->moved) {
      leads_.at(id - 1).status = LeadStatus::kDoNotCall;
      facts += " D" + std::to_string(id);
    }
    Ack("dnc", facts);
  }

  void LeadDoNotCall() {
    if (leads_.empty()) return;
    LeadId id = Uniform(1, leads_.size());
    Begin("dnc-lead");
    Result<LeadInfo> r = store_->MarkLeadDoNotCall(id, "operator", now_);
    if (!r.ok()) DieStatus("mark lead do-not-call", r.status());
    leads_[id - 1].status = LeadStatus::kDoNotCall;
    Ack("dnc-lead", " D" + std::to_string(id));
  }

  void Requeue() {
    if (leads_.empty()) return;
    LeadId id = 0;
    for (int tries = 0; tries < 20 && id == 0; ++tries) {
      LeadId i = Uniform(1, leads_.size());
      LeadStatus s = leads_[i - 1].status;
      if (s == LeadStatus::kCompleted || s == LeadStatus::kNoAnswer || s == LeadStatus::kVoicemail ||
          s == LeadStatus::kFailed) {
        id = i;
      }
    }
    if (id == 0) return;
    Begin("requeue", "events=1");
    Result<LeadInfo> r = store_->Requeue(id, "operator requeue", now_);
    if (!r.ok()) return Refused("requeue", r.status());
    leads_[id - 1].status = LeadStatus::kPending;
    Ack("requeue", " Q" + std::to_string(id));
  }

  void UpdateSettings() {
    size_t c = RandomCampaign();
    CampaignSettings s;
    s.max_attempts = static_cast<uint32_t>(Uniform(1, 5));
    s.retry_no_answer = Uniform(0, 4) == 0 ? kNever : static_cast<Duration>(Uniform(1, 60)) * kMinute;
    s.retry_voicemail = static_cast<Duration>(Uniform(1, 120)) * kMinute;
    s.retry_failed = Uniform(0, 1) == 0 ? kNever : 30 * kMinute;
    s.lease = static_cast<Duration>(Uniform(1, 20)) * kMinute;
    Begin("settings", "events=1");
    Result<Campaign> r = store_->UpdateCampaign(campaigns_[c], s, now_);
    if (!r.ok()) DieStatus("update campaign", r.status());
    Ack("settings", " K" + campaigns_[c]);
  }

  std::string db_;
  Durability durability_;
  std::mt19937_64 rng_;
  uint64_t checkpoint_every_;
  std::unique_ptr<Store> store_;
  Timestamp now_ = kStart;
  uint64_t op_number_ = 0;
  std::vector<std::string> campaigns_;
  std::vector<std::unordered_set<std::string>> phones_in_;
  std::vector<LeadModel> leads_;
  std::unordered_set<std::string> dnc_;
  std::set<LeadId> open_;  // leads with an open call (claimed, no outcome yet)
  uint64_t next_lead_phone_ = 2000000;
  uint64_t next_dnc_phone_ = 2000000;
  LeadId last_report_lead_ = 0;
  uint32_t last_report_attempt_ = 0;
  LeadStatus last_report_outcome_ = LeadStatus::kCompleted;
  std::chrono::steady_clock::time_point op_started_;
  std::map<std::string, std::pair<uint64_t, std::chrono::steady_clock::duration>> timing_;
};

// ---------------------------------------------------------------- import mode

int RunImport(const std::string& db, Durability durability, const std::string& csv_path, size_t chunk,
              const std::string& campaign) {
  Options options;
  options.durability = durability;
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(options, db, &store); !s.ok()) DieStatus("open " + db, s);
  WriteLine("O " + HeadText(*store));
  if (!store->GetCampaign(campaign).ok()) {
    WriteLine("B 0 campaign events=1");
    Result<Campaign> r = store->CreateCampaign(campaign, CampaignSettings{});
    if (!r.ok()) DieStatus("create campaign", r.status());
    WriteLine("A 0 campaign " + HeadText(*store) + " K" + campaign);
  }
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) Die("cannot read " + csv_path);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<LeadInput> leads;
  std::vector<size_t> lines;
  std::vector<CsvReject> rejects;
  uint64_t read = 0;
  if (Status s = ParseLeadsCsv(data, &leads, &lines, &rejects, &read); !s.ok()) DieStatus("parse " + csv_path, s);
  AddOptions add;
  add.default_region = "US";
  uint64_t n = 0;
  for (size_t start = 0; start < leads.size(); start += chunk, ++n) {
    std::vector<LeadInput> part(leads.begin() + static_cast<long>(start),
                                leads.begin() + static_cast<long>(std::min(leads.size(), start + chunk)));
    WriteLine("B " + std::to_string(n + 1) + " chunk");
    Result<AddLeadsResult> r = store->AddLeads(campaign, part, add);
    if (!r.ok()) DieStatus("import chunk " + std::to_string(n + 1), r.status());
    uint64_t duplicates = 0;
    for (const RowReject& rej : r->rejects) duplicates += rej.reason == RejectReason::kDuplicate;
    WriteLine("A " + std::to_string(n + 1) + " chunk " + HeadText(*store) + " imported=" +
              std::to_string(r->imported) + " duplicates=" + std::to_string(duplicates));
  }
  store.reset();
  WriteLine("DONE");
  return 0;
}

// ---------------------------------------------------------------- fill mode

// Writes leads until a write fails (a full disk), then waits for GO_FILE to
// appear (the test makes room meanwhile) and tries one more write, which
// must be refused until the store is reopened. Lines:
//   A <n> fill <seq> <head> P<phone>...   batch n acknowledged
//   F <code name...>: <message>           the write that failed
//   G refused|accepted <seq>              the write after the failure
int RunFill(const std::string& db, Durability durability, const std::string& go_file) {
  Options options;
  options.durability = durability;
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(options, db, &store); !s.ok()) DieStatus("open " + db, s);
  if (Result<Campaign> c = store->CreateCampaign("c", CampaignSettings{}); !c.ok()) DieStatus("campaign", c.status());
  WriteLine("A 0 campaign " + HeadText(*store));
  std::string padding(2000, 'p');
  Status failure;
  for (int batch = 1; batch < 100000; ++batch) {
    std::vector<LeadInput> rows;
    std::string facts;
    for (int i = 0; i < 50; ++i) {
      rows.push_back({"+1415" + std::to_string(2000000 + batch * 50 + i), "N", "", "", {{"note", padding}}});
      facts += " P" + rows.back().phone;
    }
    Result<AddLeadsResult> r = store->AddLeads("c", rows);
    if (!r.ok()) {
      failure = r.status();
      break;
    }
    WriteLine("A " + std::to_string(batch) + " fill " + HeadText(*store) + facts);
  }
  if (failure.ok()) Die("the disk never filled up");
  WriteLine("F " + failure.ToString());
  SeqNo seq = store->LastSeq();
  while (::access(go_file.c_str(), F_OK) != 0) ::usleep(1000);
  Result<Campaign> after = store->CreateCampaign("after", CampaignSettings{});
  WriteLine(std::string("G ") + (after.ok() ? "accepted " : "refused ") + std::to_string(store->LastSeq()) + " " +
            std::to_string(seq));
  store.reset();
  WriteLine("DONE");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: leadlog_crash_child ops DB ACKS buffered|synced SEED [CHECKPOINT_EVERY] [MAX_OPS] [crash]\n"
                 "       leadlog_crash_child import DB ACKS buffered|synced CSV CHUNK CAMPAIGN\n"
                 "       leadlog_crash_child fill DB ACKS buffered|synced GO_FILE\n");
    return 64;
  };
  if (argc < 6) return usage();
  std::string mode = argv[1];
  ack_fd = ::open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (ack_fd < 0) Die(std::string("cannot open ") + argv[3] + ": " + std::strerror(errno));
  Durability durability = ParseDurability(argv[4]);
  if (mode == "ops") {
    uint64_t seed = std::strtoull(argv[5], nullptr, 10);
    uint64_t checkpoint_every = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 64;
    uint64_t max_ops = argc > 7 ? std::strtoull(argv[7], nullptr, 10) : 0;
    bool crash_at_end = argc > 8 && std::strcmp(argv[8], "crash") == 0;
    OpsChild(argv[2], durability, seed, checkpoint_every).Run(max_ops, crash_at_end);
    WriteLine("DONE");
    return 0;
  }
  if (mode == "fill") return RunFill(argv[2], durability, argv[5]);
  if (mode == "import" && argc == 8) {
    return RunImport(argv[2], durability, argv[5], std::strtoull(argv[6], nullptr, 10), argv[7]);
  }
  return usage();
}
