// Verify: the audit of a database. Replays the whole log from nothing with
// every check on, then compares what is stored and what is served with it.
//
// Invariants:
//  - The audit reads only; it never repairs (that is Rebuild's job).
//  - Every problem names its rule, and its sequence number and lead where it
//    has them, so a compliance officer can find the record in `dump`.
//  - The audit works on a damaged database: a record that does not decode is
//    a problem to report, never a crash and never silently skipped.
#include <fmt/format.h>

#include <rocksdb/db.h>

#include <algorithm>
#include <memory>
#include <shared_mutex>
#include <thread>

#include "apply.h"
#include "keys.h"
#include "store_impl.h"

namespace leadlog {

constexpr size_t kMaxViewProblems = 100;

namespace {

constexpr size_t kMaxProblems = 10000;

std::string Describe(const LeadRow& r) {
  return fmt::format("status {}, attempt {}, budget from {}, time {}, call {}", LeadStatusName(r.status), r.attempt,
                     r.budget_start(), r.when, r.call_open() ? "open" : "closed");
}

// Compares views `got` (stored or served) with `want` (the fresh replay).
void CompareStates(const State& got, const State& want, std::string_view what, std::vector<AuditProblem>* problems) {
  size_t found = 0;
  auto add = [&](LeadId lead, std::string detail) {
    if (++found <= kMaxViewProblems) problems->push_back({0, lead, "view_mismatch", std::move(detail)});
  };
  if (got.leads.size() != want.leads.size()) {
    add(0, fmt::format("{} hold {} leads, the log has {}", what, got.leads.size(), want.leads.size()));
  }
  for (LeadId id = 1; id <= std::min(got.leads.size(), want.leads.size()); ++id) {
    const LeadRow& g = got.leads[id - 1];
    const LeadRow& w = want.leads[id - 1];
    if (!g.SameState(w)) {
      add(id, fmt::format("{}: lead {} is ({}) but the log says ({})", what, id, Describe(g), Describe(w)));
    }
  }
  if (got.campaigns.size() != want.campaigns.size()) {
    add(0, fmt::format("{} hold {} campaigns, the log has {}", what, got.campaigns.size(), want.campaigns.size()));
  }
  for (size_t i = 0; i < std::min(got.campaigns.size(), want.campaigns.size()); ++i) {
    const CampaignState& g = got.campaigns[i];
    const CampaignState& w = want.campaigns[i];
    if (!(g.counts == w.counts)) {
      add(0, fmt::format("{}: the counts of campaign '{}' differ from the log's", what, w.info.name));
    }
    if (g.info.name != w.info.name || !(g.info.settings == w.info.settings)) {
      add(0, fmt::format("{}: campaign {} ('{}') differs from the log's", what, w.info.id, w.info.name));
    }
  }
  if (got.dnc.size() != want.dnc.size()) {
    add(0, fmt::format("{} list {} do-not-call phones, the log has {}", what, got.dnc.size(), want.dnc.size()));
  } else {
    for (const auto& [phone, mark] : want.dnc) {
      auto it = got.dnc.find(phone);
      if (it == got.dnc.end() || it->second.seq != mark.seq) {
        add(0, fmt::format("{}: do-not-call entry {} differs from the log's", what, PhoneToString(phone)));
      }
    }
  }
  if (got.head != want.head || got.last_seq != want.last_seq) {
    add(0, fmt::format("{} reflect record {}, the log's head is {}", what, got.last_seq, want.last_seq));
  }
  if (found > kMaxViewProblems) {
    problems->push_back({0, 0, "view_mismatch", fmt::format("... and {} more differences", found - kMaxViewProblems)});
  }
}

}  // namespace

// The history index (lead_events) holds (lead, seq) for every record up to
// the checkpoint that concerns a lead, but for the lead's own lead_added
// record: exactly those, no more, no fewer (a lead_added entry written by an
// older build is accepted).
void StoreImpl::CheckHistoryIndex(const State& fresh, SeqNo checkpoint_seq, const rocksdb::Snapshot* snapshot,
                                  std::vector<AuditProblem>* problems) const {
  // What the index must hold, grouped by lead: a counting sort of the fresh
  // replay's (lead, seq) pairs, which come in seq order, so each lead's
  // records stay in seq order. Linear where a comparison sort of 10M pairs
  // was a fifth of this check.
  LeadId max_lead = 0;
  for (const auto& [lead, seq] : fresh.history_tail) {
    if (seq <= checkpoint_seq) max_lead = std::max(max_lead, lead);
  }
  std::vector<size_t> first(max_lead + 2, 0);  // lead L's records: want[first[L] .. first[L + 1])
  for (const auto& [lead, seq] : fresh.history_tail) {
    if (seq <= checkpoint_seq) ++first[lead + 1];
  }
  for (size_t l = 1; l < first.size(); ++l) first[l] += first[l - 1];
  std::vector<SeqNo> want(first.back());
  {
    std::vector<size_t> next(first.begin(), first.end() - 1);
    for (const auto& [lead, seq] : fresh.history_tail) {
      if (seq <= checkpoint_seq) want[next[lead]++] = seq;
    }
  }

  // The index is scanned in two halves by lead id at once (the replay is
  // over: both cores are free), each against its own part of `want`; their
  // findings are reported in key order.
  struct Part {
    LeadId lo, hi;  // leads [lo, hi); hi 0: no upper end
    std::vector<AuditProblem> problems;  // the first kMaxViewProblems differences
    size_t found = 0;                    // differences in all
    std::string read_error;
  };
  auto scan = [&](Part* part) {
    auto add = [&](LeadId lead, SeqNo seq, std::string detail) {
      if (++part->found <= kMaxViewProblems) part->problems.push_back({seq, lead, "history_index", std::move(detail)});
    };
    auto lacks = [&](LeadId lead, size_t i) {
      add(lead, want[i], fmt::format("the history index lacks record {} of lead {}", want[i], lead));
    };
    keys::Key<16> lo_key = keys::LeadEvent(part->lo, 0), hi_key = keys::LeadEvent(part->hi, 0);
    rocksdb::Slice hi_slice(hi_key.bytes.data(), hi_key.bytes.size());
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    ro.fill_cache = false;
    ro.readahead_size = 2 << 20;
    if (part->hi != 0) ro.iterate_upper_bound = &hi_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, lead_events_cf_));
    // The cursor into `want`: lead `lead`, entry `i`.
    LeadId lead = std::max<LeadId>(part->lo, 1);
    size_t i = lead <= max_lead ? first[lead] : want.size();
    LeadId end_lead = part->hi == 0 ? max_lead + 1 : std::min(part->hi, max_lead + 1);
    auto advance_to = [&](LeadId stop_lead, SeqNo stop_seq) {
      // Reports every wanted (lead, seq) below (stop_lead, stop_seq).
      while (lead < end_lead) {
        if (i < first[lead + 1]) {
          if (lead > stop_lead || (lead == stop_lead && want[i] >= stop_seq)) return;
          lacks(lead, i++);
        } else {
          if (lead >= stop_lead) return;
          ++lead;
        }
      }
    };
    if (part->lo == 0) {
      it->SeekToFirst();
    } else {
      it->Seek(rocksdb::Slice(lo_key.bytes.data(), lo_key.bytes.size()));
    }
    std::vector<SeqNo> run;
    for (; it->Valid(); it->Next()) {
      LeadId got_lead = 0;
      SeqNo got_first = 0;
      if (!keys::DecodeLeadEvent(it->key().ToStringView(), &got_lead, &got_first)) {
        add(0, 0, "a history index key is not 16 bytes");
        continue;
      }
      run.clear();
      if (!keys::DecodeLeadEventRun(got_first, it->value().ToStringView(), &run)) {
        add(got_lead, got_first,
            fmt::format("the history index entry of lead {} at record {} is not a valid run of records", got_lead,
                        got_first));
        continue;
      }
      for (SeqNo got_seq : run) {
        advance_to(got_lead, got_seq);
        if (lead == got_lead && lead < end_lead && i < first[lead + 1] && want[i] == got_seq) {
          ++i;
        } else if (const LeadRow* row = fresh.lead(got_lead); row != nullptr && row->added_seq == got_seq) {
          // The lead's own lead_added record: not required (the row holds
          // it), but indexes written before that rule list it. Not damage.
        } else {
          add(got_lead, got_seq,
              fmt::format("the history index lists record {} for lead {}, which the log does not", got_seq, got_lead));
        }
      }
    }
    advance_to(~LeadId{0}, ~SeqNo{0});
    if (!it->status().ok()) part->read_error = it->status().ToString();
  };
  LeadId mid = max_lead / 2 + 1;
  Part low{0, mid, {}, 0}, high{mid, 0, {}, 0};
  std::thread other(scan, &high);
  scan(&low);
  other.join();
  size_t found = low.found + high.found, kept = 0;
  for (Part* part : {&low, &high}) {
    for (AuditProblem& p : part->problems) {
      if (kept++ < kMaxViewProblems) problems->push_back(std::move(p));
    }
    if (!part->read_error.empty()) {
      problems->push_back({0, 0, "history_index", "cannot read the history index: " + part->read_error});
    }
  }
  if (found > kMaxViewProblems) {
    problems->push_back({0, 0, "history_index", fmt::format("... and {} more differences", found - kMaxViewProblems)});
  }
}

Status StoreImpl::Verify(const VerifyOptions& options, AuditReport* report) const {
  *report = AuditReport{};
  // Audit exactly what this store serves: the log up to its newest applied
  // record, read through one snapshot taken while no commit is under way
  // (commits hold state_mu_ exclusively), so that checkpoints written during
  // the audit cannot mix into it. Secondaries see a fixed state between
  // catch-ups and take no snapshot.
  SeqNo upto;
  const rocksdb::Snapshot* snapshot = nullptr;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    upto = state_.last_seq;
    if (!options_.read_only) snapshot = db()->GetSnapshot();
  }
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() {
      if (s != nullptr) db->ReleaseSnapshot(s);
    }
  } release{db(), snapshot};
  State fresh;
  fresh.track_changes = true;  // for its history: the index is audited too
  fresh.history_tail.reserve(upto);  // one entry per record at most: no regrowing 16 bytes x records
  uint64_t records = 0;
  if (Status s = ReplayInto(&fresh, 1, upto, INT64_MAX, &report->problems, &records, true, snapshot); !s.ok()) {
    return s;
  }
  report->events = records;
  report->last_seq = fresh.last_seq;

  // Every claim ends with an outcome or an expiry: a lease that ran out
  // before the newest record and is still open means `expire` was not run
  // (a dialer died and its lead is stuck in calling).
  for (LeadId id = 1; id <= fresh.leads.size(); ++id) {
    const LeadRow& row = fresh.leads[id - 1];
    if (row.call_open() && row.when < fresh.last_ts) {
      report->problems.push_back({0, id, "lease_not_ended",
                                  fmt::format("lead {}: the lease of attempt {} ran out at {} and was never ended by "
                                              "an outcome or an expiry (run `leadlog expire`)",
                                              id, row.attempt, FormatTime(row.when))});
    }
  }

  if (options.check_digest) {
    std::string bytes;
    Status s = ReadRecord(options.digest.seq, &bytes, snapshot);
    if (options.digest.seq == 0) {
      report->problems.push_back({0, 0, "digest_mismatch", "a digest names a record from 1 on"});
    } else if (s.IsNotFound() || options.digest.seq > upto) {
      report->problems.push_back(
          {options.digest.seq, 0, "digest_mismatch",
           fmt::format("record {} named by the digest is not in the log: records were removed from its end",
                       options.digest.seq)});
    } else if (!s.ok()) {
      return s;
    } else if (Sha256().Of(bytes) != options.digest.hash) {
      report->problems.push_back({options.digest.seq, 0, "digest_mismatch",
                                  fmt::format("the log up to record {} is not the one the digest was taken of",
                                              options.digest.seq)});
    }
  }

  if (options.check_views) {
    // The stored views: the last checkpoint plus the log after it.
    State stored;
    stored.track_changes = false;
    bool found = false;
    std::vector<AuditProblem> view_problems;
    if (Status s = LoadCheckpoint(&stored, &found, &view_problems, snapshot); !s.ok()) return s;
    report->problems.insert(report->problems.end(), view_problems.begin(), view_problems.end());
    if (found && view_problems.empty()) {
      CheckHistoryIndex(fresh, stored.last_seq, snapshot, &report->problems);
      std::vector<AuditProblem> tail_problems;  // the fresh replay reports these already
      if (Status s = ReplayInto(&stored, stored.last_seq + 1, upto, INT64_MAX, &tail_problems, nullptr, false, snapshot);
          !s.ok()) {
        return s;
      }
      CompareStates(stored, fresh, "the stored views", &report->problems);
    }
    // What this store serves to its callers.
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    if (state_.last_seq == upto) CompareStates(state_, fresh, "the served views", &report->problems);
  }
  if (report->problems.size() > kMaxProblems) {
    size_t more = report->problems.size() - kMaxProblems;
    report->problems.resize(kMaxProblems);
    report->problems.push_back({0, 0, "too_many_problems", fmt::format("... and {} more problems", more)});
  }
  return Status::OK();
}

}  // namespace leadlog
