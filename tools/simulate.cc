// simulate: a demo and load generator. K dialer threads work a campaign of N
// generated leads to the end under a simulated clock.
//
// Invariants:
//  - The leads are a pure function of --seed: numbers are drawn from ranges
//    that are valid in their country, each checked with NormalizePhone (and
//    redrawn if libphonenumber disagrees), unique within the run. The random
//    draws use our own generator, not <random>'s distributions, whose output
//    differs between standard libraries.
//  - The clock is one shared atomic timestamp. Each reported call moves it by
//    the call's length divided by the number of dialers (they call in
//    parallel). Only when every dialer is idle (nothing due) does the last one
//    to go idle release dead claims (Expire) and jump the clock to the next
//    moment something becomes due; at that instant no dialer holds a claim,
//    so a jump can never overtake a live call's lease.
//  - It ends when every lead it tracks is settled: the engine reports it due
//    never again (completed, out of attempts, not retried, do_not_call).
//  - With --dialers 1 the whole run is deterministic; with more, which dialer
//    gets which lead depends on thread scheduling, the leads themselves do not.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"
#include "progress.h"

namespace leadlog::tool {

namespace {

// SplitMix64: tiny, fast, and the same sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); the modulo bias is far below what a demo can notice.
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Chance(uint64_t one_in) { return Below(one_in) == 0; }
  template <class T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

// ---- generated leads ----

struct Region {
  const char* country_code;
  const char* const* prefixes;  // national prefixes of valid (mostly mobile) ranges
  size_t num_prefixes;
  int digits;  // random digits after the prefix
  int weight;
  const char* language;
};

// North American area codes in service (US, then Canada). A number is
// AREA + exchange [2-9]XX (never N11, never 555) + 4 digits.
constexpr const char* kUsAreas[] = {
    "201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213", "214", "215", "216", "217", "218",
    "219", "224", "225", "228", "229", "231", "234", "239", "240", "248", "251", "252", "253", "254", "256", "260",
    "262", "267", "269", "270", "276", "281", "301", "302", "303", "304", "305", "307", "308", "309", "310", "312",
    "313", "314", "315", "316", "317", "318", "319", "320", "321", "323", "325", "330", "334", "336", "337", "339",
    "347", "351", "352", "360", "361", "385", "386", "401", "402", "404", "405", "406", "407", "408", "409", "410",
    "412", "413", "414", "415", "417", "419", "423", "424", "425", "430", "432", "434", "435", "440", "443", "469",
    "478", "479", "480", "484", "501", "502", "503", "504", "507", "508", "509", "510", "512", "513", "515", "516",
    "517", "518", "520", "530", "540", "541", "559", "561", "562", "563", "567", "570", "571", "573", "574", "580",
    "585", "586", "601", "602", "603", "605", "606", "607", "608", "609", "610", "612", "614", "615", "616", "617",
    "618", "619", "620", "623", "626", "630", "631", "636", "641", "646", "650", "651", "660", "661", "662", "678",
    "682", "701", "702", "703", "704", "706", "707", "708", "712", "713", "714", "715", "716", "717", "718", "719",
    "720", "724", "727", "731", "732", "734", "740", "754", "757", "760", "763", "765", "770", "772", "773", "774",
    "775", "781", "785", "786", "801", "802", "803", "804", "805", "806", "808", "810", "812", "813", "814", "815",
    "816", "817", "818", "828", "830", "831", "832", "843", "845", "847", "848", "850", "856", "857", "858", "859",
    "860", "862", "863", "864", "865", "870", "901", "903", "904", "906", "907", "908", "909", "910", "912", "913",
    "914", "915", "916", "917", "918", "919", "920", "925", "928", "931", "936", "937", "940", "941", "947", "949",
    "951", "952", "954", "956", "970", "971", "972", "973", "978", "979", "980", "985", "989"};
constexpr const char* kCaAreas[] = {"204", "236", "250", "289", "306", "343", "365", "403", "416", "418", "431",
                                    "437", "438", "450", "506", "514", "519", "548", "579", "581", "587", "604",
                                    "613", "639", "647", "672", "705", "709", "778", "780", "782", "807", "819",
                                    "825", "867", "873", "902", "905"};
constexpr const char* kGb[] = {"71", "72", "73", "74", "75", "77", "78", "79"};
constexpr const char* kDe[] = {"151", "152", "157", "159", "160", "162", "170", "171",
                               "172", "173", "174", "175", "176", "177", "178", "179"};
constexpr const char* kFr[] = {"6"};
constexpr const char* kEs[] = {"6"};
constexpr const char* kIt[] = {"32", "33", "34", "35", "36", "38", "39"};
constexpr const char* kBr[] = {"119", "219", "319", "419", "519", "619", "719", "819", "919"};
constexpr const char* kAu[] = {"40", "41", "42", "43"};
constexpr const char* kIn[] = {"70", "90", "91", "96", "97", "98", "99"};
constexpr const char* kJp[] = {"80", "90"};
constexpr const char* kNl[] = {"6"};
constexpr const char* kSe[] = {"70"};
constexpr const char* kPl[] = {"50"};
constexpr const char* kIe[] = {"87"};

#define LEADLOG_REGION(cc, table, digits, weight, lang) {cc, table, std::size(table), digits, weight, lang}
const Region kRegions[] = {
    LEADLOG_REGION("1", kUsAreas, 7, 40, "en"), LEADLOG_REGION("1", kCaAreas, 7, 5, "en"),
    LEADLOG_REGION("44", kGb, 8, 10, "en"),     LEADLOG_REGION("49", kDe, 8, 7, "de"),
    LEADLOG_REGION("33", kFr, 8, 6, "fr"),      LEADLOG_REGION("34", kEs, 8, 5, "es"),
    LEADLOG_REGION("39", kIt, 8, 5, "it"),      LEADLOG_REGION("55", kBr, 8, 5, "pt"),
    LEADLOG_REGION("61", kAu, 7, 4, "en"),      LEADLOG_REGION("91", kIn, 8, 4, "hi"),
    LEADLOG_REGION("81", kJp, 8, 3, "ja"),      LEADLOG_REGION("31", kNl, 8, 2, "nl"),
    LEADLOG_REGION("46", kSe, 7, 1, "sv"),      LEADLOG_REGION("48", kPl, 7, 1, "pl"),
    LEADLOG_REGION("353", kIe, 7, 1, "en"),
};
#undef LEADLOG_REGION

struct Name {
  const char* display;
  const char* ascii;  // for the email address
};
constexpr Name kFirst[] = {{"Ana", "ana"},         {"Ben", "ben"},        {"Chloé", "chloe"},   {"David", "david"},
                           {"Emma", "emma"},       {"François", "francois"}, {"Grace", "grace"}, {"Hiro", "hiro"},
                           {"Ingrid", "ingrid"},   {"João", "joao"},      {"Karin", "karin"},   {"Liam", "liam"},
                           {"María", "maria"},     {"Noah", "noah"},      {"Olivia", "olivia"}, {"Priya", "priya"},
                           {"Quentin", "quentin"}, {"Rosa", "rosa"},      {"Sven", "sven"},     {"Tomasz", "tomasz"},
                           {"Uma", "uma"},         {"Víctor", "victor"},  {"Wei", "wei"},       {"Yusuf", "yusuf"},
                           {"Zoë", "zoe"},         {"Aoife", "aoife"},    {"Lukas", "lukas"},   {"Sofia", "sofia"}};
constexpr Name kLast[] = {{"Smith", "smith"},     {"García", "garcia"},   {"Müller", "muller"},  {"Rossi", "rossi"},
                          {"Dubois", "dubois"},   {"Silva", "silva"},     {"Tanaka", "tanaka"},  {"Patel", "patel"},
                          {"Johansson", "johansson"}, {"Nowak", "nowak"}, {"Murphy", "murphy"},  {"de Vries", "devries"},
                          {"Brown", "brown"},     {"Kowalski", "kowalski"}, {"Fernández", "fernandez"},
                          {"Schmidt", "schmidt"}, {"Ricci", "ricci"},     {"Martin", "martin"},  {"Sato", "sato"},
                          {"Singh", "singh"},     {"Lindqvist", "lindqvist"}, {"O'Brien", "obrien"}, {"Lee", "lee"}};
constexpr const char* kPlans[] = {"basic", "plus", "premium"};
constexpr const char* kReasons[] = {"renewal", "appointment reminder", "upgrade offer", "survey"};

std::string RandomDigits(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng.Below(10)));
  return s;
}

std::string DrawNumber(Rng& rng, const Region& r) {
  std::string s = fmt::format("+{}{}", r.country_code, r.prefixes[rng.Below(r.num_prefixes)]);
  if (r.country_code[0] == '1' && r.country_code[1] == '\0') {
    uint64_t exchange;
    do {
      exchange = 200 + rng.Below(800);
    } while (exchange % 100 == 11 || exchange == 555);
    return s + std::to_string(exchange) + RandomDigits(rng, 4);
  }
  return s + RandomDigits(rng, r.digits);
}

// N leads, deterministic from the seed; each phone valid and unique.
std::vector<LeadInput> GenerateLeads(uint64_t n, uint64_t seed, ProgressBar& bar) {
  Rng rng(seed);
  int total_weight = 0;
  for (const Region& r : kRegions) total_weight += r.weight;
  std::unordered_set<std::string> seen;
  std::vector<LeadInput> leads;
  leads.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    int w = static_cast<int>(rng.Below(total_weight));
    const Region* region = &kRegions[0];
    for (const Region& r : kRegions) {
      if (w < r.weight) {
        region = &r;
        break;
      }
      w -= r.weight;
    }
    std::string phone;
    for (int tries = 0;; ++tries) {
      if (tries == 1000) Fail("simulate could not draw a valid phone number; is libphonenumber's metadata intact?");
      Result<std::string> normalized = NormalizePhone(DrawNumber(rng, *region));
      if (normalized.ok() && seen.insert(*normalized).second) {
        phone = std::move(normalized).value();
        break;
      }
    }
    const Name& first = rng.Pick(kFirst);
    const Name& last = rng.Pick(kLast);
    LeadInput lead;
    lead.phone = std::move(phone);
    lead.first_name = first.display;
    lead.last_name = last.display;
    lead.email = fmt::format("{}.{}{}@example.com", first.ascii, last.ascii, rng.Below(100));
    lead.custom = {{"account", "AC-" + RandomDigits(rng, 6)},
                   {"plan", rng.Pick(kPlans)},
                   {"language", region->language},
                   {"topic", rng.Pick(kReasons)}};
    leads.push_back(std::move(lead));
    if (i % 1024 == 0) bar.Update(i, n);
  }
  return leads;
}

// ---- the simulation ----

struct SimArgs {
  std::string campaign;
  uint64_t leads = 1000;
  int dialers = 4;
  uint64_t seed = 1;
};

constexpr size_t kBatch = 4;
constexpr Duration kExpireEvery = 5 * kMinute;

struct Sim {
  Store* store = nullptr;
  std::string campaign;
  int dialers = 1;
  uint64_t seed = 1;
  ProgressBar* bar = nullptr;

  std::atomic<Timestamp> now{0};
  std::atomic<Timestamp> next_expire{0};
  std::atomic<bool> done{false};
  std::atomic<int> idle{0};
  uint64_t to_settle = 0;

  std::mutex mu;                          // guards the three below
  std::unordered_set<LeadId> open;        // leads that may still be called
  std::priority_queue<Timestamp, std::vector<Timestamp>, std::greater<>> wakeups;  // future due times, leases
  Status error;

  std::atomic<uint64_t> settled{0}, claims{0}, reports{0}, dropped{0}, released{0}, late{0}, dnc{0}, deaths{0};

  void SetError(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = s;
    done = true;
  }

  // Records what the engine says became of a lead. Requires mu.
  void Settle(const LeadInfo& info) {
    if (info.status == LeadStatus::kCalling) {
      wakeups.push(info.lease_until + kSecond);
    } else if (info.due == 0) {
      if (open.erase(info.id) > 0) ++settled;
      if (open.empty()) done = true;
    } else {
      wakeups.push(info.due);
    }
  }

  void ShowProgress() {
    bar->Update(settled.load(), to_settle, "sim " + HumanTime(now.load()));
  }

  void Expire(Timestamp t) {
    Result<std::vector<LeadInfo>> r = store->Expire(t);
    if (!r.ok()) return SetError(r.status());
    std::lock_guard<std::mutex> lock(mu);
    for (const LeadInfo& info : *r) {
      ++released;
      Settle(info);
    }
  }

  // Called by a dialer whose claim at `t` came back empty. Waits until the
  // clock moves; the last dialer to go idle moves it.
  void Idle(Timestamp t) {
    ++idle;
    while (!done && now.load() == t) {
      if (idle.load() == dialers) {
        Advance(t);
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    --idle;
  }

  // Every dialer is idle: nobody holds a live claim. Release dead claims and
  // jump to the next moment anything becomes due.
  void Advance(Timestamp t) {
    std::lock_guard<std::mutex> advancing(advance_mu);
    if (done || now.load() != t) return;  // another idle dialer got here first
    Expire(t);
    std::lock_guard<std::mutex> lock(mu);
    if (done) return;
    // Expire gives released leads a due time after t, so nothing is due at t
    // and the next wake-up is the earliest one still ahead.
    while (!wakeups.empty() && wakeups.top() <= t) wakeups.pop();
    if (wakeups.empty()) {
      if (error.ok()) {
        error = Status::Corruption(fmt::format("simulation stuck: {} still open but none is due or calling",
                                               Plural(open.size(), "lead is", "leads are")));
      }
      done = true;
      return;
    }
    now.store(wakeups.top());
  }
  std::mutex advance_mu;

  void Dialer(int k) {
    Rng rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(k) + 1);
    std::string id = fmt::format("sim-{}", k + 1);
    int restarts = 0;
    while (!done) {
      Timestamp t = now.load();
      // Periodic expire, as a real fleet's supervisor would run it.
      Timestamp due_expire = next_expire.load();
      if (t >= due_expire && next_expire.compare_exchange_strong(due_expire, t + kExpireEvery)) Expire(t);

      Result<std::vector<ClaimedLead>> r = store->Claim(campaign, kBatch, id, t);
      if (!r.ok()) return SetError(r.status());
      if (r->empty()) {
        Idle(t);
        continue;
      }
      claims += r->size();
      if (rng.Chance(150)) {
        // The dialer process dies mid-batch: no outcome is ever reported;
        // only `expire` can release these leads once their lease runs out.
        std::lock_guard<std::mutex> lock(mu);
        for (const ClaimedLead& c : *r) wakeups.push(c.lease_until + kSecond);
        dropped += r->size();
        ++deaths;
        id = fmt::format("sim-{}.{}", k + 1, ++restarts);
        continue;
      }
      for (const ClaimedLead& c : *r) {
        Duration call = static_cast<Duration>(10 + rng.Below(170)) * kSecond;
        Timestamp at = now.fetch_add(call / dialers) + call / dialers;
        uint64_t roll = rng.Below(100);
        LeadStatus outcome = roll < 30   ? LeadStatus::kCompleted
                             : roll < 65 ? LeadStatus::kNoAnswer
                             : roll < 85 ? LeadStatus::kVoicemail
                                         : LeadStatus::kFailed;
        const char* reason = outcome == LeadStatus::kCompleted   ? "conversation finished"
                             : outcome == LeadStatus::kNoAnswer  ? "rang out"
                             : outcome == LeadStatus::kVoicemail ? "left a message"
                                                                 : "carrier error";
        Result<LeadInfo> rep = store->Report(c.lead, c.attempt, outcome, reason, at);
        if (!rep.ok()) {
          Status::Code code = rep.status().code();
          if (code == Status::Code::kConflict || code == Status::Code::kIllegalTransition) {
            ++late;  // the lease ran out first and expire ended the attempt
            continue;
          }
          return SetError(rep.status());
        }
        ++reports;
        {
          std::lock_guard<std::mutex> lock(mu);
          Settle(*rep);
        }
        if (outcome == LeadStatus::kCompleted && rng.Chance(100)) {
          Result<DncResult> d = store->AddDoNotCall(c.profile.phone, "asked not to be called again", "", at);
          if (!d.ok()) return SetError(d.status());
          ++dnc;
        }
      }
      ShowProgress();
    }
  }
};

int RunSimulate(Context& ctx, const SimArgs& args) {
  auto wall_start = std::chrono::steady_clock::now();
  Timestamp start = ctx.DisplayNow() / kSecond * kSecond;
  ProgressBar gen_bar("generate");
  std::vector<LeadInput> leads = GenerateLeads(args.leads, args.seed, gen_bar);
  gen_bar.Finish();

  auto store = OpenStore(ctx, Access::kCreate);
  Sim sim;
  sim.now = start;
  sim.next_expire = start + kExpireEvery;

  Result<Campaign> campaign = store->GetCampaign(args.campaign);
  if (!campaign.ok()) {
    if (!campaign.status().IsNotFound()) FailStatus(campaign.status());
    campaign = Check(store->CreateCampaign(args.campaign, CampaignSettings{}, start));
  }

  ProgressBar add_bar("import");
  uint64_t imported = 0;
  constexpr size_t kChunk = 10000;
  for (size_t i = 0; i < leads.size(); i += kChunk) {
    std::vector<LeadInput> chunk(leads.begin() + static_cast<ptrdiff_t>(i),
                                 leads.begin() + static_cast<ptrdiff_t>(std::min(leads.size(), i + kChunk)));
    AddLeadsResult added = Check(store->AddLeads(args.campaign, chunk, {}, start));
    imported += added.imported;
    add_bar.Update(i + chunk.size(), leads.size());
  }
  add_bar.Finish();

  // Track every lead of the campaign that may still be called, including
  // those left by an earlier run.
  LogFilter filter;
  filter.campaign = campaign->id;
  filter.any_type = false;
  filter.type = EventType::kLeadAdded;
  std::vector<LeadId> ids;
  Check(store->ScanLog(filter, [&](const LoggedEvent& e) {
    ids.push_back(e.lead);
    return true;
  }));
  for (LeadId id : ids) {
    LeadInfo info = Check(store->GetLead(id));
    if (info.status == LeadStatus::kCalling) {
      sim.open.insert(id);
      sim.wakeups.push(info.lease_until + kSecond);
    } else if (info.due != 0) {
      sim.open.insert(id);
      sim.wakeups.push(info.due);
    }
  }
  sim.to_settle = sim.open.size();
  sim.store = store.get();
  sim.campaign = args.campaign;
  sim.dialers = args.dialers;
  sim.seed = args.seed;
  ProgressBar bar("simulate");
  sim.bar = &bar;
  if (sim.open.empty()) sim.done = true;

  std::vector<std::thread> threads;
  for (int k = 0; k < args.dialers; ++k) threads.emplace_back([&sim, k] { sim.Dialer(k); });
  for (std::thread& t : threads) t.join();
  bar.Finish();
  if (!sim.error.ok()) FailStatus(sim.error);

  StatusCounts counts = Check(store->Counts(args.campaign));
  Timestamp end = sim.now.load();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (ctx.json) {
    Json j = CountsJson(args.campaign, counts);
    j["generated"] = args.leads;
    j["imported"] = imported;
    j["dialers"] = args.dialers;
    j["seed"] = args.seed;
    j["claims"] = sim.claims.load();
    j["reports"] = sim.reports.load();
    j["dropped"] = sim.dropped.load();
    j["released_by_expire"] = sim.released.load();
    j["late_reports"] = sim.late.load();
    j["do_not_call_requests"] = sim.dnc.load();
    j["sim_start"] = FormatTime(start);
    j["sim_end"] = FormatTime(end);
    j["events"] = store->LastSeq();
    PrintJson(j);
    return kExitOk;
  }
  fmt::print("Simulated campaign {}: {} generated (seed {}), {} imported, {}.\n", Printable(args.campaign),
             Plural(args.leads, "lead", "leads"), args.seed, imported, Plural(args.dialers, "dialer", "dialers"));
  fmt::print("  {} claimed, {} reported; {} dropped by {} that died, released by expire ({} released in all, {} late).\n",
             Plural(sim.claims.load(), "call", "calls"), sim.reports.load(), sim.dropped.load(),
             Plural(sim.deaths.load(), "dialer", "dialers"), sim.released.load(),
             Plural(sim.late.load(), "report", "reports"));
  fmt::print("  {} asked not to be called again.\n", Plural(sim.dnc.load(), "person", "people"));
  fmt::print("  Simulated time {} to {} ({}); wall time {:.1f}s; the log now holds {}.\n\n", HumanTime(start),
             HumanTime(end), HumanDuration(end - start), wall, Plural(store->LastSeq(), "event", "events"));
  PrintCountsTable({CampaignCounts{*campaign, counts}});
  return kExitOk;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("simulate", "Demo and load generator: K dialers work N generated leads to the end");
  auto args = std::make_shared<SimArgs>();
  cmd->add_option("NAME", args->campaign, "Campaign (created with default settings if missing)")->required();
  cmd->add_option("--leads", args->leads, "How many leads to generate (default 1000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}))
      ->type_name("N");
  cmd->add_option("--dialers", args->dialers, "Dialer threads (default 4)")->check(CLI::Range(1, 256))->type_name("K");
  cmd->add_option("--seed", args->seed, "Seed of the generated leads and outcomes (default 1)")->type_name("S");
  SetExample(cmd, "leadlog --db /tmp/demo.db simulate demo --leads 10000 --dialers 8 --seed 42");
  cmd->footer(cmd->get_footer() +
              "\n\nThe simulated clock runs ahead of the real one (days to months), and later events in the same "
              "database can never be dated before it: give the simulation a database of its own, or a --now.");
  cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunSimulate(ctx, *args); }; });
}

}  // namespace leadlog::tool
