// leadlog_compare: the side-by-side comparison of issue 5. Runs the same
// workloads on `leadlog` (public API), `sqlite` and `rocksdb_naive` in one
// process run and prints ops/s with the ratios leadlog / other.
//
//   leadlog_compare [--quick] [--json] [--workloads a,b,c] [--dir DIR]
//                   [--leads N] [--events N] [--memory-leads N] [--seconds S]
//                   [--peer-commit batch256|group] [--keep]
//
// Workloads: import, transitions, transitions_synced, replay, open,
// counts_1k, counts_1m, memory. See each Run* function for what is timed.
// Besides the three systems, the transitions workloads are also run on
// RocksDB alone (bench/ceiling.h: "ceiling_per_call", "ceiling_batched"),
// and import on validation alone ("validate_only") and on validation followed
// by one RocksDB write of its records ("ceiling_atomic"): what this machine
// allows.
//
// Invariants:
//  - Every system gets byte-identical input (seeded generators) and the same
//    sequence of calls; only the system under the Peer interface differs.
//  - Setup is never timed; a timed section ends only after the system has
//    committed what it was given (Peer::Flush).
//  - Logs that must look "killed" (open) are written by a child process that
//    _exit()s without closing; the parent only opens and measures. Children
//    are separate exec'd processes, so no RocksDB thread state crosses a fork.
//  - The memory workload runs in its own child so earlier workloads' peaks do
//    not pollute its resident-set figures.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ceiling.h"
#include "common.h"
#include "leadlog/csv.h"
#include "leadlog/store.h"
#include "peer.h"
#include "peer_leadlog.h"

namespace fs = std::filesystem;
using leadlog::kClockNow;
using leadlog::LeadStatus;
using leadlog::Timestamp;

namespace bench {

namespace {

const std::vector<std::string> kAllWorkloads = {"import",    "transitions", "transitions_synced", "replay", "open",
                                                "counts_1k", "counts_1m",   "memory"};
// LEADLOG_COMPARE_SYSTEMS=sqlite,rocksdb_naive narrows the run (peer debugging);
// "ceiling" in the list keeps the RocksDB-alone ceilings of the transitions
// and import workloads. Unset or empty: everything runs.
bool Wanted(const std::string& system) {
  const char* env = std::getenv("LEADLOG_COMPARE_SYSTEMS");
  return !env || !*env || fmt::format(",{},", env).find(fmt::format(",{},", system)) != std::string::npos;
}

bool CeilingsWanted() { return Wanted("ceiling"); }

std::vector<std::string> Systems() {
  std::vector<std::string> out;
  for (const std::string s : {"leadlog", "sqlite", "rocksdb_naive"})
    if (Wanted(s)) out.push_back(s);
  return out;
}

struct Config {
  bool quick = false;
  bool json = false;
  bool keep = false;
  std::set<std::string> workloads;
  std::string dir;
  size_t leads = 1'000'000;          // import CSV rows; the transitions campaign
  uint64_t events = 10'000'000;      // replay / open log size
  size_t memory_leads = 10'000'000;  // memory workload
  double seconds = 10;               // time box of one transitions run
  double counts_seconds = 1;
  unsigned threads = 8;
  unsigned synced_threads = 64;
  // How the peers commit in the buffered workloads. kBatch256 is issue 5's
  // "transactions of 256" (calls return before their batch commits);
  // --peer-commit group makes them wait for their commit, like leadlog.
  CommitMode peer_commit = CommitMode::kBatch256;
  bool Has(const std::string& w) const { return workloads.count(w) > 0; }
};

struct Row {
  std::string workload, system;
  double ops = 0;
  std::string unit;
  std::string note;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

std::unique_ptr<Peer> MakePeer(const std::string& system) {
  if (system == "leadlog") {
    auto p = MakeLeadlogPeer();
    if (!p) Die("no leadlog peer in this build");
    return p;
  }
  if (system == "sqlite") return MakeSqlitePeer();
  return MakeRocksdbNaivePeer();
}

std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) Die("cannot find my own executable: {}", ec.message());
  return p.string();
}

// Runs this executable with `args` and returns what it printed on stdout.
std::string RunChild(const std::vector<std::string>& args) {
  std::string cmd = fmt::format("'{}'", SelfExe());
  for (const auto& a : args) cmd += fmt::format(" '{}'", a);
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) Die("cannot run {}", cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int rc = pclose(f);
  if (rc != 0) Die("child failed ({}): {}", rc, cmd);
  return out;
}

void Progress(const Config& cfg, const std::string& what) {
  if (!cfg.json || isatty(2)) fmt::print(stderr, "  .. {}\n", what);
}

// ---- the transitions workloads ----

// Claim+report cycles from `threads` threads until `seconds` pass or `cap`
// transitions are done or the campaign runs dry. Returns transitions/s.
double RunTransitions(Peer& p, const std::string& campaign, unsigned threads, double seconds, uint64_t cap,
                      uint64_t* done_out) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::atomic<unsigned> active{threads};
  Timer timer;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::string dialer = fmt::format("dialer-{}", t);
      std::vector<PeerClaim> got;
      while (!stop.load(std::memory_order_relaxed)) {
        p.Claim(campaign, 1, dialer, kClockNow, &got);
        if (got.empty()) break;  // nothing due any more
        for (const auto& c : got) p.Report(c.lead, c.attempt, PickOutcome(c.lead, c.attempt), kClockNow);
        if (done.fetch_add(got.size()) + got.size() >= cap) stop = true;
      }
      active--;
    });
  }
  // Threads that ran dry leave on their own; then there is nothing to wait for.
  while (!stop.load() && active.load() > 0 && timer.Seconds() < seconds)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& t : pool) t.join();
  p.Flush();
  double s = timer.Seconds();
  *done_out = done.load();
  return static_cast<double>(done.load()) / s;
}

// What one fdatasync costs on the scratch disk right now (MEASUREMENTS.md D2
// found ~200 us): the synced figures mean little without it on a shared disk.
double ProbeFdatasyncMicros(const std::string& dir) {
  std::string path = dir + "/fdatasync-probe";
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) Die("cannot create {}", path);
  char buf[128] = {};
  constexpr int kSyncs = 100;
  Timer t;
  for (int i = 0; i < kSyncs; ++i) {
    if (std::fwrite(buf, sizeof buf, 1, f) != 1 || std::fflush(f) != 0 || fdatasync(fileno(f)) != 0)
      Die("fdatasync probe failed: {}", std::strerror(errno));
  }
  double us = t.Seconds() * 1e6 / kSyncs;
  std::fclose(f);
  fs::remove(path);
  return us;
}

double RunCounts(Peer& p, const std::string& campaign, double seconds, uint64_t expect_total) {
  auto c = p.Counts(campaign);
  if (c.total != expect_total) Die("{}: counts of {} say {} leads, expected {}", p.name(), campaign, c.total, expect_total);
  uint64_t n = 0, sink = 0;
  Timer t;
  do {
    for (int i = 0; i < 1000; ++i) sink += p.Counts(campaign).total;
    n += 1000;
  } while (t.Seconds() < seconds);
  double rate = static_cast<double>(n) / t.Seconds();
  if (sink != n * expect_total) Die("counts changed while reading");
  return rate;
}

// ---- building a long log (replay / open), in a child process ----

// Writes about `events` events: `leads` leads, then rounds of claim (256 at a
// time) + report on a simulated clock, mostly no_answer so leads come back.
void BuildLog(Peer& p, uint64_t events, size_t leads) {
  Timestamp t = NowMicros();
  p.CreateCampaign("replay", CyclingSettings(), t);
  uint64_t written = 1;
  constexpr size_t kChunk = 100'000;
  for (size_t first = 0; first < leads; first += kChunk) {
    auto chunk = MakeLeads(std::min(kChunk, leads - first), 3, 0.0, first);
    written += p.AddLeads("replay", chunk, t).imported;
  }
  std::vector<PeerClaim> got;
  while (written < events) {
    t += 2 * leadlog::kMinute;  // every retry (60 s) is due again
    bool any = false;
    while (written < events) {
      p.Claim("replay", std::min<uint64_t>(256, (events - written + 1) / 2), "builder", t, &got);
      if (got.empty()) break;
      any = true;
      written += got.size();
      for (const auto& c : got) {
        p.Report(c.lead, c.attempt, PickOutcome(c.lead, c.attempt, true), t);
        ++written;
      }
    }
    if (!any) break;  // every lead finished: the log is as long as it gets
  }
  p.Flush();
}

// --internal-build SYSTEM DIR EVENTS LEADS: build, then die without closing.
[[noreturn]] void InternalBuild(const std::string& system, const std::string& dir, uint64_t events, size_t leads) {
  auto p = MakePeer(system);
  p->Open(dir, false, CommitMode::kBulk);
  BuildLog(*p, events, leads);
  fmt::print("{}\n", nlohmann::json{{"events", p->LastSeq()}}.dump());
  std::fflush(stdout);
  _exit(0);  // the "kill": no destructor, no close, no final checkpoint
}

// --internal-open-verify SYSTEM DIR: open a kept log and verify it; the hook
// for profiling those two paths alone (valgrind --tool=callgrind).
[[noreturn]] void InternalOpenVerify(const std::string& system, const std::string& dir) {
  auto p = MakePeer(system);
  Timer open;
  p->Open(dir, false, CommitMode::kBatch256);
  double open_s = open.Seconds();
  Timer verify;
  uint64_t events = p->Verify();
  fmt::print("{}\n", nlohmann::json{{"open_seconds", open_s}, {"events", events}, {"verify_seconds", verify.Seconds()}}.dump());
  std::fflush(stdout);
  _exit(0);
}

// --internal-memory DIR N: add N leads through AddLeads, report memory.
[[noreturn]] void InternalMemory(const std::string& dir, size_t n) {
  auto p = MakePeer("leadlog");
  p->Open(dir, false, CommitMode::kBatch256);
  p->CreateCampaign("memory", {}, kClockNow);
  auto* store = dynamic_cast<LeadlogAccess&>(*p).store();
  uint64_t rss0 = CurrentRssBytes(), peak0 = PeakRssBytes();
  size_t view0 = store->ApproximateViewMemory();
  constexpr size_t kChunk = 100'000;
  double seconds = 0;
  uint64_t imported = 0;
  for (size_t first = 0; first < n; first += kChunk) {
    auto chunk = MakeLeads(std::min(kChunk, n - first), 4, 0.0, first);
    Timer t;
    imported += p->AddLeads("memory", chunk, kClockNow).imported;
    seconds += t.Seconds();
  }
  if (imported != n) Die("memory: {} of {} leads imported", imported, n);
  uint64_t rss1 = CurrentRssBytes(), peak1 = PeakRssBytes();
  size_t view1 = store->ApproximateViewMemory();
  nlohmann::json j = {{"leads", n},
                      {"leads_per_s", static_cast<double>(n) / seconds},
                      {"view_bytes_per_lead", static_cast<double>(view1 - view0) / static_cast<double>(n)},
                      {"rss_bytes_per_lead", static_cast<double>(rss1 - rss0) / static_cast<double>(n)},
                      {"peak_rss_bytes_per_lead", static_cast<double>(peak1 - std::min(peak1, peak0)) /
                                                      static_cast<double>(n)},
                      {"peak_rss_bytes", peak1},
                      {"rss_bytes", rss1}};
  fmt::print("{}\n", j.dump());
  std::fflush(stdout);
  _exit(0);  // closing (a final checkpoint of 10M leads) is not what is measured
}

// ---- the workloads ----

class Runner {
 public:
  explicit Runner(Config cfg) : cfg_(std::move(cfg)) {}

  void Run() {
    if (cfg_.Has("import") || cfg_.Has("transitions") || cfg_.Has("transitions_synced") || cfg_.Has("counts_1k") ||
        cfg_.Has("counts_1m")) {
      Progress(cfg_, fmt::format("generating {} leads (1% invalid)", cfg_.leads));
      leads_ = MakeLeads(cfg_.leads, 1, 0.01);
      CheckGeneratedLeads(leads_, 0.01, 2000);
      if (cfg_.Has("import")) csv_ = LeadsToCsv(leads_);
      if (cfg_.Has("import")) ValidateOnly();
      for (const auto& s : Systems()) MainPhase(s);
      if (CeilingsWanted() && (cfg_.Has("transitions") || cfg_.Has("transitions_synced"))) Ceilings();
    }
    if (cfg_.Has("replay") || cfg_.Has("open"))
      for (const auto& s : Systems()) LogPhase(s);
    if (cfg_.Has("memory")) Memory();
  }

  // Grouped by workload (in kAllWorkloads order), leadlog first in each.
  std::vector<Row> SortedRows() const {
    auto rank = [](const std::vector<std::string>& v, const std::string& x) {
      return std::find(v.begin(), v.end(), x) - v.begin();
    };
    static const std::vector<std::string> systems = {"leadlog",          "sqlite",          "rocksdb_naive",
                                                     "ceiling_per_call", "ceiling_batched", "validate_only",
                                                     "ceiling_atomic"};
    std::vector<Row> rows = rows_;
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      auto ka = std::make_pair(rank(kAllWorkloads, a.workload), rank(systems, a.system));
      auto kb = std::make_pair(rank(kAllWorkloads, b.workload), rank(systems, b.system));
      return ka < kb;
    });
    return rows;
  }

 private:
  void Add(Row r) {
    Progress(cfg_, fmt::format("{} {}: {} {}", r.workload, r.system, FormatRate(r.ops), r.unit));
    rows_.push_back(std::move(r));
  }

  // The reference the import goal is set against: validation alone, all cores.
  void ValidateOnly() {
    std::vector<std::string> out;
    Timer t;
    NormalizeAll(leads_, 0, &out);
    double s = t.Seconds();
    size_t valid = std::count_if(out.begin(), out.end(), [](const std::string& e) { return !e.empty(); });
    Add({"import", "validate_only", static_cast<double>(leads_.size()) / s, "leads/s",
         fmt::format("libphonenumber alone, {} threads, {} valid", std::thread::hardware_concurrency(), valid)});
    if (!CeilingsWanted()) return;
    // Validation, then the valid leads' records committed in one write: the
    // most an atomic import can reach here, whatever it does in between.
    Progress(cfg_, "import ceiling (validation + one RocksDB write)");
    double write_s = TimeOneAtomicWrite(cfg_.dir + "/ceiling", valid, kImportRecordBytes);
    Add({"import", "ceiling_atomic", static_cast<double>(leads_.size()) / (s + write_s), "leads/s",
         fmt::format("validation alone + one Write of {} {} B records ({:.2f} s)", valid, kImportRecordBytes,
                     write_s)});
  }

  // import, counts_1k, counts_1m, transitions, transitions_synced: one
  // database per system; the imported campaign is the 1M-lead campaign.
  void MainPhase(const std::string& system) {
    std::string dir = cfg_.dir + "/" + system + "-main";
    fs::create_directories(dir);
    auto p = MakePeer(system);
    p->Open(dir, false, cfg_.peer_commit);
    p->CreateCampaign("big", {}, kClockNow);
    uint64_t imported = 0;
    if (cfg_.Has("import")) {
      Progress(cfg_, fmt::format("import {}", system));
      Timer t;
      PeerImport r = p->ImportCsv("big", csv_, kClockNow);
      p->Flush();
      double s = t.Seconds();
      if (r.read != leads_.size() || r.imported + r.rejected != r.read)
        Die("{}: import read {} imported {} rejected {} of {}", system, r.read, r.imported, r.rejected, leads_.size());
      imported = r.imported;
      Row row{"import", system, static_cast<double>(r.read) / s, "leads/s",
              fmt::format("{} imported, {} rejected, {:.2f} s", r.imported, r.rejected, s)};
      if (system == "leadlog") {
        // Where an import's time goes that validation does not explain: the
        // CSV parse (single-threaded, public API) is one serial part.
        std::vector<leadlog::LeadInput> parsed;
        std::vector<size_t> lines;
        std::vector<leadlog::CsvReject> rejects;
        uint64_t read = 0;
        Timer pt;
        if (!leadlog::ParseLeadsCsv(csv_, &parsed, &lines, &rejects, &read).ok()) Die("csv parse failed");
        double parse_s = pt.Seconds();
        row.note += fmt::format(" (csv parse alone {:.2f} s)", parse_s);
        row.extra["csv_parse_seconds"] = parse_s;
      }
      Add(std::move(row));
    } else {
      imported = p->AddLeads("big", leads_, kClockNow).imported;
      p->Flush();
    }
    if (cfg_.Has("counts_1k")) {
      p->CreateCampaign("small", {}, kClockNow);
      p->AddLeads("small", MakeLeads(1000, 2), kClockNow);
      p->Flush();
      Add({"counts_1k", system, RunCounts(*p, "small", cfg_.counts_seconds, 1000), "reads/s", "1K-lead campaign"});
    }
    if (cfg_.Has("counts_1m"))
      Add({"counts_1m", system, RunCounts(*p, "big", cfg_.counts_seconds, imported), "reads/s",
           fmt::format("{}-lead campaign", imported)});
    // Half the campaign for each transitions run, so the synced one has due
    // leads too (outcomes retry only after an hour: no lead comes back).
    if (cfg_.Has("transitions")) {
      Progress(cfg_, fmt::format("transitions {}", system));
      uint64_t done = 0;
      double rate = RunTransitions(*p, "big", cfg_.threads, cfg_.seconds, imported / 2, &done);
      Add({"transitions", system, rate, "trans/s",
           fmt::format("{} threads, buffered, {} transitions", cfg_.threads, done)});
    }
    if (cfg_.Has("transitions_synced")) {
      p->Close();
      p->Open(dir, true, CommitMode::kGroupCommit);
      Progress(cfg_, fmt::format("transitions_synced {}", system));
      uint64_t done = 0;
      double sync_us = ProbeFdatasyncMicros(dir);
      double rate = RunTransitions(*p, "big", cfg_.synced_threads, cfg_.seconds, imported / 2, &done);
      Row r{"transitions_synced", system, rate, "trans/s",
            fmt::format("{} threads, synced, {} transitions = {} events/s; fdatasync {:.0f} us", cfg_.synced_threads,
                        done, FormatRate(2 * rate), sync_us)};
      r.extra["fdatasync_us"] = sync_us;
      Add(std::move(r));
    }
    p->Close();
    if (!cfg_.keep) fs::remove_all(dir);
  }

  // RocksDB alone on the transitions workloads' shapes (bench/ceiling.h): how
  // far each figure is from what this machine allows.
  void Ceilings() {
    std::string dir = cfg_.dir + "/ceiling";
    uint64_t cap = leads_.size() / 2;
    if (cfg_.Has("transitions")) {
      Progress(cfg_, "transitions ceilings (RocksDB alone)");
      CeilingRun per_call = RunPerCallCeiling(dir, cfg_.threads, false, cfg_.seconds, cap);
      Add({"transitions", "ceiling_per_call", per_call.transitions_per_s, "trans/s",
           fmt::format("{} threads, one {} B record per Write, 2 per transition, {} transitions", cfg_.threads,
                       kCeilingRecordBytes, per_call.transitions)});
      CeilingRun batched = RunBatchedCeiling(dir, cfg_.seconds, cap);
      Add({"transitions", "ceiling_batched", batched.transitions_per_s, "trans/s",
           fmt::format("1 thread, 512 {} B records per Write, {} transitions", kCeilingRecordBytes,
                       batched.transitions)});
    }
    if (cfg_.Has("transitions_synced")) {
      Progress(cfg_, "transitions_synced ceiling (RocksDB alone)");
      CeilingRun per_call = RunPerCallCeiling(dir, cfg_.synced_threads, true, cfg_.seconds, cap);
      Add({"transitions_synced", "ceiling_per_call", per_call.transitions_per_s, "trans/s",
           fmt::format("{} threads, one {} B record per synced Write, {} transitions = {} events/s",
                       cfg_.synced_threads, kCeilingRecordBytes, per_call.transitions,
                       FormatRate(2 * per_call.transitions_per_s))});
    }
  }

  // open, replay: a long log written by a killed child; open it, verify it.
  void LogPhase(const std::string& system) {
    std::string dir = cfg_.dir + "/" + system + "-log";
    fs::create_directories(dir);
    size_t leads = std::max<size_t>(1, cfg_.events / 10);
    Progress(cfg_, fmt::format("building a {}-event log for {} (child process)", cfg_.events, system));
    Timer build;
    auto built = nlohmann::json::parse(RunChild({"--internal-build", system, dir, std::to_string(cfg_.events),
                                                 std::to_string(leads)}));
    Progress(cfg_, fmt::format("built {} events in {:.1f} s", built["events"].get<uint64_t>(), build.Seconds()));
    auto p = MakePeer(system);
    Timer open;
    p->Open(dir, false, CommitMode::kBatch256);
    double open_s = open.Seconds();
    if (cfg_.Has("open")) {
      Row r{"open", system, 1.0 / open_s, "opens/s", fmt::format("{:.3f} s to open {} events after a kill", open_s,
                                                                   p->LastSeq())};
      r.extra["seconds"] = open_s;
      Add(std::move(r));
    }
    if (cfg_.Has("replay")) {
      Progress(cfg_, fmt::format("replay {}", system));
      Timer t;
      uint64_t events = p->Verify();
      double s = t.Seconds();
      Row r{"replay", system, static_cast<double>(events) / s, "events/s",
            fmt::format("full verify of {} events, {:.2f} s", events, s)};
      if (system == "leadlog") {
        // Verify also audits the history index and compares the stored and
        // served views; Store::Replay is the replay alone (read, hash check,
        // decode, apply), what `leadlog replay` and point-in-time queries cost.
        Timer rt;
        auto replayed = dynamic_cast<LeadlogAccess&>(*p).store()->Replay({});
        if (!replayed.ok()) Die("leadlog replay: {}", replayed.status().ToString());
        double rs = rt.Seconds();
        r.note += fmt::format("; replay alone (Store::Replay) {:.2f} s = {} events/s", rs,
                              FormatRate(static_cast<double>(events) / rs));
        r.extra["replay_alone_events_per_s"] = static_cast<double>(events) / rs;
      }
      Add(std::move(r));
    }
    p->Close();
    if (!cfg_.keep) fs::remove_all(dir);
  }

  void Memory() {
    std::string dir = cfg_.dir + "/leadlog-memory";
    fs::create_directories(dir);
    Progress(cfg_, fmt::format("memory: adding {} leads (child process)", cfg_.memory_leads));
    auto j = nlohmann::json::parse(RunChild({"--internal-memory", dir, std::to_string(cfg_.memory_leads)}));
    Row r{"memory", "leadlog", j["leads_per_s"].get<double>(), "leads/s",
          fmt::format("{} leads: views {:.1f} B/lead, RSS +{:.1f} B/lead, peak RSS +{:.1f} B/lead ({} MiB)",
                      cfg_.memory_leads, j["view_bytes_per_lead"].get<double>(), j["rss_bytes_per_lead"].get<double>(),
                      j["peak_rss_bytes_per_lead"].get<double>(), j["peak_rss_bytes"].get<uint64_t>() >> 20)};
    for (const char* k : {"view_bytes_per_lead", "rss_bytes_per_lead", "peak_rss_bytes_per_lead", "peak_rss_bytes"})
      r.extra[k] = j[k];
    Add(std::move(r));
    if (!cfg_.keep) fs::remove_all(dir);
  }

  Config cfg_;
  std::vector<leadlog::LeadInput> leads_;
  std::string csv_;
  std::vector<Row> rows_;
};

// ---- output ----

std::optional<double> Ops(const std::vector<Row>& rows, const std::string& w, const std::string& s) {
  for (const auto& r : rows)
    if (r.workload == w && r.system == s) return r.ops;
  return std::nullopt;
}

void PrintJson(const std::vector<Row>& rows) {
  std::vector<std::string> order;
  for (const auto& r : rows) {
    if (std::find(order.begin(), order.end(), r.workload) == order.end()) order.push_back(r.workload);
    // ordered_json: keys in the order issue 5 writes them.
    nlohmann::ordered_json j = {{"workload", r.workload}, {"system", r.system}, {"ops_per_s", r.ops}};
    for (auto& [k, v] : r.extra.items()) j[k] = v;
    fmt::print("{}\n", j.dump());
  }
  for (const auto& w : order) {
    auto ll = Ops(rows, w, "leadlog");
    if (!ll) continue;
    nlohmann::ordered_json j = {{"workload", w}};
    if (auto s = Ops(rows, w, "sqlite")) j["ratio_vs_sqlite"] = *ll / *s;
    if (auto n = Ops(rows, w, "rocksdb_naive")) j["ratio_vs_rocksdb_naive"] = *ll / *n;
    fmt::print("{}\n", j.dump());
  }
}

void PrintTable(const std::vector<Row>& rows) {
  auto ratio = [&](const Row& r, const char* other) -> std::string {
    if (r.system != "leadlog") return "";
    auto o = Ops(rows, r.workload, other);
    return o ? fmt::format("{:.2f}x", r.ops / *o) : "-";
  };
  fmt::print("\n{:<19} {:<16} {:>10} {:<9} {:>9} {:>10}  {}\n", "workload", "system", "ops/s", "unit", "vs sqlite",
             "vs naive", "notes");
  fmt::print("{:-<19} {:-<16} {:->10} {:-<9} {:->9} {:->10}  {:-<40}\n", "", "", "", "", "", "", "");
  std::string last;
  for (const auto& r : rows) {
    fmt::print("{:<19} {:<16} {:>10} {:<9} {:>9} {:>10}  {}\n", r.workload == last ? "" : r.workload, r.system,
               FormatRate(r.ops), r.unit, ratio(r, "sqlite"), ratio(r, "rocksdb_naive"), r.note);
    last = r.workload;
  }
  // The goals of issue 5 that a single ratio does not express.
  auto imp = Ops(rows, "import", "leadlog"), val = Ops(rows, "import", "validate_only");
  if (imp && val) fmt::print("\nimport vs validation alone: {:.0f}% (goal >= 90%)\n", 100 * *imp / *val);
  if (auto cap = Ops(rows, "import", "ceiling_atomic"); cap && val)
    fmt::print("import ceiling (validation + one atomic write) vs validation alone: {:.0f}%\n", 100 * *cap / *val);
  for (const char* w : {"transitions", "transitions_synced"}) {
    auto ll = Ops(rows, w, "leadlog"), pc = Ops(rows, w, "ceiling_per_call"), bc = Ops(rows, w, "ceiling_batched");
    if (ll && pc) fmt::print("{} vs RocksDB alone, one Write per call: {:.0f}%\n", w, 100 * *ll / *pc);
    if (ll && bc) fmt::print("{} vs RocksDB alone, sequential appends in batches: {:.0f}%\n", w, 100 * *ll / *bc);
  }
  auto c1 = Ops(rows, "counts_1k", "leadlog"), c2 = Ops(rows, "counts_1m", "leadlog");
  if (c1 && c2) fmt::print("counts reads 1M/1K leads: {:.2f} (goal: flat)\n", *c2 / *c1);
  fmt::print("peak RSS of this process: {} MiB\n", PeakRssBytes() >> 20);
}

// The machine is shared: say how busy it was, next to the figures.
std::string LoadAverage() {
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return "?";
  char buf[64] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string s(buf, n);
  size_t third = s.find(' ', s.find(' ', s.find(' ') + 1) + 1);
  return s.substr(0, third);
}

[[noreturn]] void Usage(const char* msg) {
  fmt::print(stderr,
             "{}\nusage: leadlog_compare [--quick] [--json] [--workloads a,b,c] [--dir DIR] [--leads N]\n"
             "                       [--events N] [--memory-leads N] [--seconds S] [--peer-commit batch256|group]\n"
             "                       [--keep]\n"
             "workloads: import transitions transitions_synced replay open counts_1k counts_1m memory\n",
             msg);
  std::exit(2);
}

uint64_t ParseCount(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s) Usage("not a number");
  if (*end == 'K' || *end == 'k') v *= 1e3;
  if (*end == 'M' || *end == 'm') v *= 1e6;
  return static_cast<uint64_t>(v);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (argc >= 6 && std::strcmp(argv[1], "--internal-build") == 0)
    InternalBuild(argv[2], argv[3], std::stoull(argv[4]), std::stoull(argv[5]));
  if (argc >= 4 && std::strcmp(argv[1], "--internal-open-verify") == 0) InternalOpenVerify(argv[2], argv[3]);
  if (argc >= 4 && std::strcmp(argv[1], "--internal-memory") == 0) InternalMemory(argv[2], std::stoull(argv[3]));

  Config cfg;
  std::optional<uint64_t> leads, events, memory_leads;
  std::optional<double> seconds;
  std::string workloads;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Usage(fmt::format("missing value for {}", a).c_str());
      return argv[++i];
    };
    if (a == "--quick") cfg.quick = true;
    else if (a == "--json") cfg.json = true;
    else if (a == "--keep") cfg.keep = true;
    else if (a == "--workloads") workloads = value();
    else if (a == "--dir") cfg.dir = value();
    else if (a == "--leads") leads = ParseCount(value());
    else if (a == "--events") events = ParseCount(value());
    else if (a == "--memory-leads") memory_leads = ParseCount(value());
    else if (a == "--seconds") seconds = std::strtod(value(), nullptr);
    else if (a == "--peer-commit") {
      std::string m = value();
      if (m == "batch256") cfg.peer_commit = CommitMode::kBatch256;
      else if (m == "group") cfg.peer_commit = CommitMode::kGroupCommit;
      else Usage("--peer-commit takes batch256 or group");
    }
    else if (a == "--help" || a == "-h") Usage("");
    else Usage(fmt::format("unknown flag {}", a).c_str());
  }
  if (cfg.quick) {
    // Same shapes, small sizes: the whole run stays within 60 s on 2 cores.
    cfg.leads = 50'000;
    cfg.events = 200'000;
    cfg.memory_leads = 200'000;
    cfg.seconds = 2;
    cfg.counts_seconds = 0.3;
  }
  if (leads) cfg.leads = *leads;
  if (events) cfg.events = *events;
  if (memory_leads) cfg.memory_leads = *memory_leads;
  if (seconds) cfg.seconds = *seconds;
  if (workloads.empty()) {
    cfg.workloads.insert(kAllWorkloads.begin(), kAllWorkloads.end());
  } else {
    std::stringstream ss(workloads);
    for (std::string w; std::getline(ss, w, ',');) {
      if (w == "counts") {  // both sizes
        cfg.workloads.insert("counts_1k");
        cfg.workloads.insert("counts_1m");
        continue;
      }
      if (std::find(kAllWorkloads.begin(), kAllWorkloads.end(), w) == kAllWorkloads.end())
        Usage(fmt::format("unknown workload {}", w).c_str());
      cfg.workloads.insert(w);
    }
  }
  bool own_dir = cfg.dir.empty();
  if (own_dir) {
    std::string tmpl = (fs::temp_directory_path() / "leadlog_compare.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) Die("mkdtemp: {}", std::strerror(errno));
    cfg.dir = tmpl;
  }
  fs::create_directories(cfg.dir);
  if (!cfg.json)
    fmt::print(
        "leadlog_compare{}: {} leads, {} events, {} memory leads, peers commit {}, {} cores, load average {}, "
        "scratch {}\n",
        cfg.quick ? " --quick" : "", cfg.leads, cfg.events, cfg.memory_leads,
        cfg.peer_commit == CommitMode::kBatch256 ? "every 256 events (calls do not wait)" : "in groups (calls wait)",
        std::thread::hardware_concurrency(), LoadAverage(), cfg.dir);
  Timer total;
  Runner runner(cfg);
  runner.Run();
  if (cfg.json) PrintJson(runner.SortedRows());
  else {
    PrintTable(runner.SortedRows());
    fmt::print("total {:.1f} s, load average now {}\n", total.Seconds(), LoadAverage());
  }
  if (own_dir && !cfg.keep) fs::remove_all(cfg.dir);
  return 0;
}
