// leadlog_bench: Google Benchmark micro-benchmarks of the hot pieces —
// phone normalization, the record codec, the hash chain link, apply, and
// through the public API: AddLeads, Report (the append hot path), the
// Claim+Report cycle (1, 8, 64 threads; buffered and synced) and Counts.
//
// Invariants:
//  - Every benchmark is self-contained: its store lives in a fresh temporary
//    directory that is removed when the benchmark ends.
//  - Campaigns that are cycled use retry delay 0 and the largest attempt
//    budget, so a reported no_answer lead is due again at once and the
//    benchmark never runs out of work.
//  - items_processed counts the unit named by the benchmark (numbers,
//    records, events, transitions, reads).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>

#include "apply.h"
#include "codec.h"
#include "common.h"
#include "hash.h"
#include "leadlog/store.h"
#include "state.h"

namespace fs = std::filesystem;
using namespace leadlog;

namespace {

// ---- phone normalization (MEASUREMENTS.md P1/P2 shapes) ----

void BM_NormalizeIntlMix(benchmark::State& st) {
  std::vector<std::string> phones;
  for (uint64_t i = 0; i < 10'000; ++i)
    phones.push_back(i % 10 == 9 ? bench::InvalidPhone(i) : bench::ValidIntlPhone(i * 7919));
  size_t i = 0, valid = 0;
  for (auto _ : st) {
    auto r = NormalizePhone(phones[i++ % phones.size()]);
    valid += r.ok();
    benchmark::DoNotOptimize(r);
  }
  st.SetItemsProcessed(st.iterations());
  st.counters["valid%"] = 100.0 * static_cast<double>(valid) / static_cast<double>(st.iterations());
}
BENCHMARK(BM_NormalizeIntlMix);

void BM_NormalizeUsNational(benchmark::State& st) {
  std::vector<std::string> phones;
  for (uint64_t i = 0; i < 10'000; ++i) phones.push_back(bench::ValidUsNationalPhone(i * 31));
  size_t i = 0;
  for (auto _ : st) {
    auto r = NormalizePhone(phones[i++ % phones.size()], "US");
    if (!r.ok()) st.SkipWithError("a generated US number did not validate");
    benchmark::DoNotOptimize(r);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_NormalizeUsNational);

// ---- internal pieces: codec, hash chain, apply ----

Event ClaimEvent(LeadId lead, uint32_t attempt, Timestamp ts) {
  Event e;
  e.type = EventType::kLeadClaimed;
  e.lead = lead;
  e.campaign = 1;
  e.attempt = attempt;
  e.lease_until = ts + 15 * kMinute;
  e.dialer = "dialer-7";
  return e;
}

void BM_EncodeClaimRecord(benchmark::State& st) {
  RecordEncoder enc;
  Hash32 prev{};
  Timestamp ts = 1'800'000'000'000'000;
  SeqNo seq = 1;
  size_t bytes = 0;
  for (auto _ : st) {
    auto out = enc.Encode(seq, ts, prev, ClaimEvent(seq, 1, ts), nullptr);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
    ++seq;
  }
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_EncodeClaimRecord);

void BM_EncodeLeadAddedRecord(benchmark::State& st) {
  RecordEncoder enc;
  Hash32 prev{};
  auto leads = bench::MakeLeads(1024, 9);
  std::vector<LeadProfile> profiles;
  for (auto& l : leads)
    profiles.push_back({bench::NormalizeOrEmpty(l.phone), l.first_name, l.last_name, l.email, l.custom});
  size_t bytes = 0;
  SeqNo seq = 1;
  for (auto _ : st) {
    const LeadProfile& p = profiles[seq % profiles.size()];
    Event e;
    e.type = EventType::kLeadAdded;
    e.lead = seq;
    e.campaign = 1;
    e.phone = p.phone;
    auto out = enc.Encode(seq, 1'800'000'000'000'000, prev, e, &p);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
    ++seq;
  }
  st.SetItemsProcessed(st.iterations());
  st.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_EncodeLeadAddedRecord);

void BM_DecodeRecord(benchmark::State& st) {
  RecordEncoder enc;
  Hash32 prev{};
  std::vector<std::string> records;
  for (SeqNo s = 1; s <= 4096; ++s) records.emplace_back(enc.Encode(s, 1'800'000'000'000'000, prev, ClaimEvent(s, 1, 0), nullptr));
  size_t i = 0;
  DecodedRecord d;
  for (auto _ : st) {
    Status s = DecodeRecord(records[i++ & 4095], &d);
    if (!s.ok()) st.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(d);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_DecodeRecord);

void BM_HashChainLink(benchmark::State& st) {
  Sha256 sha;
  std::string record(150, 'x');
  Hash32 h{};
  for (auto _ : st) {
    std::copy(h.begin(), h.end(), record.begin());  // chain: the next input holds the last hash
    h = sha.Of(record);
    benchmark::DoNotOptimize(h);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_HashChainLink);

// Apply of claim + report on a state of N leads: the replay inner loop.
void BM_ApplyClaimReport(benchmark::State& st) {
  const size_t n = static_cast<size_t>(st.range(0));
  State state;
  state.track_changes = false;
  Timestamp ts = 1'800'000'000'000'000;
  SeqNo seq = 0;
  Event c;
  c.type = EventType::kCampaignCreated;
  c.campaign = 1;
  c.name = "bench";
  c.settings = bench::CyclingSettings();
  c.settings.retry_no_answer = 0;
  c.settings.max_attempts = kMaxAttempts;
  if (!Apply(state, c, ++seq, ts).ok()) return st.SkipWithError("campaign");
  std::vector<std::string> phones;
  for (size_t i = 0; i < n; ++i) phones.push_back(fmt::format("+1415{:07d}", 2'000'000 + i));
  for (size_t i = 0; i < n; ++i) {
    Event e;
    e.type = EventType::kLeadAdded;
    e.lead = i + 1;
    e.campaign = 1;
    e.phone = phones[i];
    if (!Apply(state, e, ++seq, ts).ok()) return st.SkipWithError("lead_added");
  }
  std::vector<uint32_t> attempts(n + 1, 0);
  LeadId lead = 0;
  int64_t events = 0;
  for (auto _ : st) {
    lead = lead % n + 1;
    ++ts;
    Event claim = ClaimEvent(lead, ++attempts[lead], ts);
    Event report;
    report.type = EventType::kOutcomeReported;
    report.lead = lead;
    report.campaign = 1;
    report.attempt = attempts[lead];
    report.status = LeadStatus::kNoAnswer;
    Status s1 = Apply(state, claim, ++seq, ts);
    Status s2 = Apply(state, report, ++seq, ts);
    if (!s1.ok() || !s2.ok()) return st.SkipWithError((s1.ok() ? s2 : s1).ToString().c_str());
    events += 2;
    if (attempts[lead] % kMaxAttempts == 0) {  // budget spent: an operator requeue renews it
      Event requeue;
      requeue.type = EventType::kLeadRequeued;
      requeue.lead = lead;
      requeue.campaign = 1;
      if (Status s = Apply(state, requeue, ++seq, ts); !s.ok()) return st.SkipWithError(s.ToString().c_str());
      ++events;
    }
  }
  st.SetItemsProcessed(events);  // events applied
}
BENCHMARK(BM_ApplyClaimReport)->Arg(1000)->Arg(1'000'000);

// ---- through the public API ----

// A store in a temporary directory, removed on destruction.
struct TempStore {
  explicit TempStore(Durability d = Durability::kBuffered) {
    std::string tmpl = (fs::temp_directory_path() / "leadlog_bench.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) bench::Die("mkdtemp failed");
    dir = tmpl;
    Options o;
    o.durability = d;
    Status s = Store::Open(o, dir + "/db", &store);
    if (!s.ok()) bench::Die("open: {}", s.ToString());
  }
  ~TempStore() {
    store.reset();
    fs::remove_all(dir);
  }
  // A campaign of n leads that retries no_answer at once, for endless cycling.
  void CyclingCampaign(const std::string& name, size_t n, uint64_t seed) {
    CampaignSettings s = bench::CyclingSettings();
    s.retry_no_answer = 0;
    s.max_attempts = kMaxAttempts;
    if (!store->CreateCampaign(name, s).ok()) bench::Die("create campaign");
    auto r = store->AddLeads(name, bench::MakeLeads(n, seed));
    if (!r.ok() || r->imported != n) bench::Die("add leads");
  }
  std::string dir;
  std::unique_ptr<Store> store;
};

void BM_AddLeads(benchmark::State& st) {
  const size_t batch = static_cast<size_t>(st.range(0));
  TempStore ts;
  if (!ts.store->CreateCampaign("c", {}).ok()) return st.SkipWithError("create campaign");
  size_t first = 0;
  for (auto _ : st) {
    st.PauseTiming();
    auto leads = bench::MakeLeads(batch, 5, 0.0, first);
    first += batch;
    st.ResumeTiming();
    auto r = ts.store->AddLeads("c", leads);
    if (!r.ok() || r->imported != batch) return st.SkipWithError("AddLeads failed");
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * batch));
}
BENCHMARK(BM_AddLeads)->Arg(1000)->Arg(100'000)->Unit(benchmark::kMillisecond)->UseRealTime();

// The append hot path: one Report = one record appended (its claim is done
// in batches of 256 outside the timing).
void BM_ReportAppend(benchmark::State& st) {
  TempStore ts;
  ts.CyclingCampaign("c", 2000, 6);
  std::vector<ClaimedLead> claimed;
  size_t next = 0;
  for (auto _ : st) {
    if (next == claimed.size()) {
      st.PauseTiming();
      auto r = ts.store->Claim("c", 256, "bench");
      if (!r.ok() || r->empty()) return st.SkipWithError("claim failed");
      claimed = std::move(r).value();
      next = 0;
      st.ResumeTiming();
    }
    const ClaimedLead& c = claimed[next++];
    auto r = ts.store->Report(c.lead, c.attempt, LeadStatus::kNoAnswer, std::string());
    if (!r.ok()) return st.SkipWithError(r.status().ToString().c_str());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_ReportAppend);

// Claim one lead + report it, from 1, 8 and 64 threads sharing one store.
// Stores shared by the threads of one benchmark. Closed in main() before
// exit: a store left to static destruction would close after RocksDB's own
// statics are gone.
std::unique_ptr<TempStore> claim_report_store;
std::unique_ptr<TempStore> counts_store;

template <Durability D>
void BM_ClaimReport(benchmark::State& st) {
  auto& shared = claim_report_store;
  static std::mutex mu;
  if (st.thread_index() == 0) {
    std::lock_guard<std::mutex> l(mu);
    shared = std::make_unique<TempStore>(D);
    shared->CyclingCampaign("c", 2000, 7);
  }
  // Google Benchmark starts the timed loop of all threads together, after
  // thread 0's setup above.
  std::string dialer = fmt::format("dialer-{}", st.thread_index());
  for (auto _ : st) {
    auto c = shared->store->Claim("c", 1, dialer);
    if (!c.ok() || c->empty()) {
      st.SkipWithError("claim failed or nothing due");
      break;
    }
    // Always no_answer: the lead is due again at once, so work never runs out.
    auto r = shared->store->Report((*c)[0].lead, (*c)[0].attempt, LeadStatus::kNoAnswer, std::string());
    if (!r.ok()) {
      st.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  st.SetItemsProcessed(st.iterations());  // transitions (2 events each)
}
BENCHMARK_TEMPLATE(BM_ClaimReport, Durability::kBuffered)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ClaimReport, Durability::kSynced)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

void BM_CountsRead(benchmark::State& st) {
  auto& shared = counts_store;
  static int64_t leads = -1;
  if (leads != st.range(0)) {
    shared = std::make_unique<TempStore>();
    leads = st.range(0);
    if (!shared->store->CreateCampaign("c", {}).ok()) return st.SkipWithError("create campaign");
    for (int64_t first = 0; first < leads; first += 100'000) {
      auto r = shared->store->AddLeads("c", bench::MakeLeads(std::min<int64_t>(100'000, leads - first), 8, 0.0, first));
      if (!r.ok()) return st.SkipWithError("AddLeads failed");
    }
  }
  for (auto _ : st) {
    auto c = shared->store->Counts("c");
    benchmark::DoNotOptimize(c);
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_CountsRead)->Arg(1000)->Arg(200'000);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  claim_report_store.reset();
  counts_store.reset();
  return 0;
}
