// dump, replay, verify, rebuild, digest: the log, decoded and audited.
//
// Invariants:
//  - None of these commands writes to the log. Only `rebuild` writes at all,
//    and only the views (the engine's Rebuild never touches the log).
//  - verify and replay --verify exit 3 when they find a problem, and only
//    then; an audit that could not run at all is an error (exit 1), never a
//    silent pass.
//  - dump streams: it never holds the log in memory, so its human table uses
//    column widths known in advance rather than measured.
#include <algorithm>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"
#include "progress.h"

namespace leadlog::tool {

namespace {

size_t Digits(uint64_t n) { return std::to_string(n).size(); }

// ---- dump ----

struct DumpArgs {
  std::string from, to, campaign, lead, type;
  bool redact = false;
};

std::string EventTypeList() {
  std::string out;
  for (int i = 1; i <= 9; ++i) {
    if (!out.empty()) out += ", ";
    out += EventTypeName(static_cast<EventType>(i));
  }
  return out;
}

int RunDump(Context& ctx, const DumpArgs& args) {
  LogFilter filter;
  if (!args.from.empty()) filter.from = ParsePositive(args.from, "--from", UINT64_MAX - 1);
  if (!args.to.empty()) filter.to = ParsePositive(args.to, "--to", UINT64_MAX - 1);
  if (filter.to < filter.from) UsageFail(fmt::format("--to {} is before --from {}", filter.to, filter.from));
  if (!args.lead.empty()) filter.lead = ParseLeadId(args.lead);
  if (!args.type.empty()) {
    filter.any_type = false;
    if (!ParseEventType(args.type, &filter.type)) {
      UsageFail(fmt::format("unknown event type '{}': use one of {}", args.type, EventTypeList()));
    }
  }
  auto store = OpenStore(ctx, Access::kRead);
  if (!args.campaign.empty()) {
    filter.campaign = Check(store->GetCampaign(args.campaign), "`leadlog campaign list` shows the campaigns").id;
  }
  CampaignNames names(*store);
  Redactor redact(args.redact);

  // Widths known before the first row, so that rows can stream.
  size_t seq_w = std::max<size_t>(3, Digits(std::min(filter.to, std::max<SeqNo>(store->LastSeq(), 1))));
  size_t lead_w = std::max<size_t>(4, Digits(std::max<SeqNo>(store->LastSeq(), 1)));  // ids <= events
  size_t camp_w = 8;
  for (const Campaign& c : store->ListCampaigns()) camp_w = std::max(camp_w, DisplayWidth(Printable(c.name)));
  size_t type_w = 5;
  for (int i = 1; i <= 9; ++i) type_w = std::max(type_w, EventTypeName(static_cast<EventType>(i)).size());
  const size_t time_w = HumanTime(1).size();
  auto row = [&](std::string_view seq, std::string_view time, std::string_view lead, std::string_view campaign,
                 std::string_view type, std::string_view detail) {
    std::string line = fmt::format("{}  {}  {}  {}  {}  {}\n", Pad(seq, seq_w, true), Pad(time, time_w),
                                   Pad(lead, lead_w, true), Pad(campaign, camp_w), Pad(type, type_w), detail);
    std::fwrite(line.data(), 1, line.size(), stdout);
  };

  uint64_t shown = 0;
  if (!ctx.json) row("SEQ", "TIME", "LEAD", "CAMPAIGN", "EVENT", "DETAIL");
  Status s = store->ScanLog(filter, [&](const LoggedEvent& e) {
    ++shown;
    if (ctx.json) {
      PrintJson(EventJson(e, names, redact));
    } else {
      std::string campaign = !e.campaign_name.empty() ? e.campaign_name : names.Name(e.campaign);
      row(std::to_string(e.seq), HumanTime(e.ts), e.lead == 0 ? "-" : std::to_string(e.lead),
          campaign.empty() ? "-" : Printable(campaign), EventTypeName(e.type), EventDetail(e, names, redact));
    }
    return true;
  });
  Check(s);
  if (!ctx.json && shown == 0) fmt::print("(no event matches)\n");
  return kExitOk;
}

// ---- replay ----

struct ReplayArgs {
  std::string until_seq, until;
  bool verify = false;
};

std::string CountsDiff(const StatusCounts& view, const StatusCounts& log) {
  std::string out;
  for (int i = 0; i < kNumStatuses; ++i) {
    if (view.by_status[i] == log.by_status[i]) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {} in the view but {} from the log", LeadStatusName(static_cast<LeadStatus>(i)),
                       view.by_status[i], log.by_status[i]);
  }
  if (view.total != log.total) {
    if (!out.empty()) out += ", ";
    out += fmt::format("total {} in the view but {} from the log", view.total, log.total);
  }
  return out;
}

int RunReplay(Context& ctx, const ReplayArgs& args) {
  ReplayTarget target;
  if (!args.until_seq.empty()) target.until_seq = ParsePositive(args.until_seq, "--until-seq", UINT64_MAX - 1);
  if (!args.until.empty()) target.until_ts = ParseTimeFlag(args.until, "--until");

  ProgressBar bar("replay");
  std::string corruption;
  auto store = OpenStore(ctx, Access::kRead, {.progress = bar.Fn(), .corruption = args.verify ? &corruption : nullptr});
  if (store == nullptr) {
    bar.Finish();
    fmt::print(stderr, "leadlog: {}\n", corruption);
    fmt::print(stderr, "leadlog: `leadlog verify` details the damage; `leadlog rebuild` repairs it\n");
    return kExitProblems;
  }
  Result<std::vector<CampaignCounts>> replay = store->Replay(target);
  bar.Finish();
  if (!replay.ok() && args.verify && replay.status().IsCorruption()) {
    // The log itself does not replay: the comparison's answer is "they differ".
    fmt::print(stderr, "leadlog: the log does not replay: {}\n", replay.status().message());
    fmt::print(stderr, "leadlog: `leadlog verify` reports every problem\n");
    return kExitProblems;
  }
  std::vector<CampaignCounts> replayed = Check(std::move(replay));

  std::vector<std::string> differences;
  if (args.verify) {
    std::map<CampaignId, CampaignCounts> views;
    for (CampaignCounts& cc : store->AllCounts()) views[cc.campaign.id] = cc;
    for (const CampaignCounts& cc : replayed) {
      auto it = views.find(cc.campaign.id);
      if (it == views.end()) {
        differences.push_back(fmt::format("campaign {} is in the log but not in the views", cc.campaign.name));
        continue;
      }
      if (!(it->second.counts == cc.counts)) {
        differences.push_back(fmt::format("campaign {}: {}", cc.campaign.name, CountsDiff(it->second.counts, cc.counts)));
      }
      views.erase(it);
    }
    for (const auto& [id, cc] : views) {
      differences.push_back(fmt::format("campaign {} is in the views but not in the log", cc.campaign.name));
    }
  }

  if (ctx.json) {
    for (const CampaignCounts& cc : replayed) PrintJson(CountsJson(cc.campaign.name, cc.counts));
  } else {
    if (!args.until_seq.empty() && !args.until.empty()) {
      fmt::print("Counts from the log alone, up to seq {} and {}:\n", target.until_seq, HumanTime(target.until_ts));
    } else if (!args.until_seq.empty()) {
      fmt::print("Counts from the log alone, as of seq {}:\n", target.until_seq);
    } else if (!args.until.empty()) {
      fmt::print("Counts from the log alone, as of {}:\n", HumanTime(target.until_ts));
    } else {
      fmt::print("Counts from the log alone, up to its newest record (seq {}):\n", store->LastSeq());
    }
    if (replayed.empty()) {
      fmt::print("  (no campaign existed yet)\n");
    } else {
      PrintCountsTable(replayed);
    }
  }
  if (!args.verify) return kExitOk;
  if (differences.empty()) {
    if (!ctx.json) fmt::print("The stored views agree with the log.\n");
    return kExitOk;
  }
  for (const std::string& d : differences) fmt::print(stderr, "leadlog: views differ from the log: {}\n", d);
  fmt::print(stderr, "leadlog: `leadlog verify` details the damage; `leadlog rebuild` repairs it\n");
  return kExitProblems;
}

// ---- verify ----

Digest ParseDigestFlag(const std::string& text) {
  size_t colon = text.find(':');
  auto bad = [&] {
    UsageFail(fmt::format("--digest takes SEQ:HEX as printed by `leadlog digest` (e.g. 1234:9f86d0...), not '{}'", text));
  };
  if (colon == std::string::npos) bad();
  Digest d;
  std::string seq = text.substr(0, colon), hex = text.substr(colon + 1);
  if (seq.empty() || seq.size() > 19 || seq.find_first_not_of("0123456789") != std::string::npos) bad();
  d.seq = std::stoull(seq);
  if (hex.size() != 64) bad();
  for (size_t i = 0; i < 32; ++i) {
    auto nibble = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      bad();
      return 0;
    };
    d.hash[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return d;
}

Json NullIfZero(uint64_t v) { return v == 0 ? Json(nullptr) : Json(v); }

int RunVerify(Context& ctx, const std::string& digest_flag) {
  VerifyOptions options;
  if (!digest_flag.empty()) {
    options.check_digest = true;
    options.digest = ParseDigestFlag(digest_flag);
  }
  ProgressBar bar("verify");
  std::string corruption;
  auto store =
      OpenStore(ctx, Access::kRead, {.replay_damaged_views = true, .progress = bar.Fn(), .corruption = &corruption});
  AuditReport report;
  if (store == nullptr) {
    // Even replaying the log could not open it (e.g. a record that does not
    // decode): that is the audit's finding, not a failure to audit.
    bar.Finish();
    report.problems.push_back({0, 0, "unreadable", corruption});
  } else {
    Status s = store->Verify(options, &report);
    bar.Finish();
    if (!s.ok()) FailStatus(s, "the audit could not run; nothing was checked");
  }

  if (ctx.json) {
    Json problems = Json::array();
    for (const AuditProblem& p : report.problems) {
      problems.push_back({{"seq", NullIfZero(p.seq)}, {"lead", NullIfZero(p.lead)}, {"rule", p.rule}, {"detail", p.detail}});
    }
    PrintJson({{"ok", report.ok()}, {"events", report.events}, {"last_seq", report.last_seq}, {"problems", problems}});
    return report.ok() ? kExitOk : kExitProblems;
  }

  Digest head = store != nullptr ? store->Head() : Digest{};
  fmt::print("Audit of the leadlog database {}\n", ctx.db);
  Table t({"", ""});
  t.AddRow({"events checked", store == nullptr        ? "none: the database could not be opened"
                              : report.last_seq == 0 ? "0 (the log is empty)"
                                                  : fmt::format("{} (seq 1 to {})", report.events, report.last_seq)});
  if (head.seq > 0) t.AddRow({"head of the log", fmt::format("{}:{}", head.seq, head.Hex())});
  t.AddRow({"rules checked", "hash chain and dense sequence; every transition legal under the settings in force;"});
  t.AddRow({"", "no call to a do-not-call lead or phone; attempts within budget; no retry before"});
  t.AddRow({"", "its due time; every lease ended; stored views equal to a fresh replay of the log"});
  if (options.check_digest) {
    t.AddRow({"recorded digest", fmt::format("{}:{}", options.digest.seq, options.digest.Hex())});
  }
  t.Print(stdout, "  ");
  fmt::print("\n");
  if (report.ok()) {
    fmt::print("Result: PASSED. No problems found.\n");
    if (options.check_digest) {
      fmt::print("The log up to seq {} is the one the recorded digest was taken of.\n", options.digest.seq);
    }
    if (head.seq > 0) {
      fmt::print("Record the head above outside this system; a later `leadlog verify --digest {}:{}`\n"
                 "proves the log unaltered up to seq {}.\n",
                 head.seq, head.Hex(), head.seq);
    }
    return kExitOk;
  }
  fmt::print("Result: FAILED. {} found:\n\n", Plural(report.problems.size(), "problem", "problems"));
  Table p({"SEQ", "LEAD", "RULE", "DETAIL"});
  p.RightAlign(0);
  p.RightAlign(1);
  for (const AuditProblem& pr : report.problems) {
    p.AddRow({pr.seq == 0 ? "-" : std::to_string(pr.seq), pr.lead == 0 ? "-" : std::to_string(pr.lead), pr.rule,
              Printable(pr.detail)});
  }
  p.Print(stdout, "  ");
  fmt::print("\n`leadlog dump --from SEQ --to SEQ` shows a record; `leadlog history LEAD` a lead's events.\n"
             "Damaged views are repaired by `leadlog rebuild`; no command ever rewrites the log.\n");
  return kExitProblems;
}

// ---- rebuild ----

int RunRebuild(Context& ctx) {
  ProgressBar bar("rebuild");
  auto store = OpenStore(ctx, Access::kWrite, {.replay_damaged_views = true, .progress = bar.Fn()});
  Check(store->Rebuild());
  bar.Finish();
  std::vector<CampaignCounts> all = store->AllCounts();
  uint64_t leads = 0;
  for (const CampaignCounts& cc : all) leads += cc.counts.total;
  if (ctx.json) {
    PrintJson({{"rebuilt", true}, {"events", store->LastSeq()}, {"campaigns", all.size()}, {"leads", leads}});
  } else {
    fmt::print("Rebuilt every view from the log: {} replayed, {}, {}. The log itself was not changed.\n",
               Plural(store->LastSeq(), "event", "events"), Plural(all.size(), "campaign", "campaigns"),
               Plural(leads, "lead", "leads"));
  }
  return kExitOk;
}

// ---- digest ----

int RunDigest(Context& ctx) {
  auto store = OpenStore(ctx, Access::kRead);
  Digest d = store->Head();
  if (ctx.json) {
    PrintJson({{"seq", d.seq}, {"hash", d.Hex()}});
  } else if (d.seq == 0) {
    fmt::print("The log is empty; there is nothing to digest yet.\n");
  } else {
    fmt::print("Head of the log: seq {}, SHA-256 {}\n", d.seq, d.Hex());
    fmt::print("Keep \"{}:{}\" somewhere outside this system; later,\n"
               "`leadlog verify --digest {}:{}` proves the log unaltered up to seq {}.\n",
               d.seq, d.Hex(), d.seq, d.Hex(), d.seq);
  }
  return kExitOk;
}

}  // namespace

void AddLogCommands(CLI::App& app, Context& ctx) {
  {
    CLI::App* cmd = app.add_subcommand("dump", "The log, decoded, one event per line");
    auto args = std::make_shared<DumpArgs>();
    cmd->add_option("--from", args->from, "First sequence number (default 1)")->type_name("SEQ");
    cmd->add_option("--to", args->to, "Last sequence number, inclusive (default the newest)")->type_name("SEQ");
    cmd->add_option("--campaign", args->campaign, "Only events of this campaign")->type_name("NAME");
    cmd->add_option("--lead", args->lead, "Only events of this lead")->type_name("ID");
    cmd->add_option("--type", args->type, "Only events of this type: " + EventTypeList())->type_name("TYPE");
    cmd->add_flag("--redact", args->redact, "Mask phone numbers, names, emails and custom values");
    SetExample(cmd, "leadlog --json dump --campaign spring --type outcome_reported --from 1000 --redact");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunDump(ctx, *args); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("replay", "The counts per campaign from the log alone, now or at a past point");
    auto args = std::make_shared<ReplayArgs>();
    auto* seq = cmd->add_option("--until-seq", args->until_seq, "Up to this sequence number, inclusive")->type_name("N");
    auto* until = cmd->add_option("--until", args->until, "Up to this time, inclusive (RFC 3339)")->type_name("TIME");
    auto* verify = cmd->add_flag("--verify", args->verify, "Compare with the stored views; exit 3 if they differ");
    seq->excludes(until);
    verify->excludes(seq);
    verify->excludes(until);
    SetExample(cmd, "leadlog replay --until 2026-12-01T00:00:00Z    |    leadlog replay --verify");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunReplay(ctx, *args); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("verify", "The audit: hash chain, legal transitions, dialer rules, views; exit 3 "
                                                 "on any problem");
    auto digest = std::make_shared<std::string>();
    cmd->add_option("--digest", *digest, "Also prove the log up to SEQ is the one this digest was taken of")
        ->type_name("SEQ:HEX");
    SetExample(cmd, "leadlog verify --digest 1234:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    cmd->callback([&ctx, digest] { ctx.action = [&ctx, digest] { return RunVerify(ctx, *digest); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("rebuild", "Derive every view again from the log (repairs damaged views)");
    SetExample(cmd, "leadlog rebuild && leadlog verify");
    cmd->callback([&ctx] { ctx.action = [&ctx] { return RunRebuild(ctx); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("digest", "The head of the hash chain, to keep outside the system");
    SetExample(cmd, "leadlog --json digest >> /secure/leadlog-digests.jsonl");
    cmd->callback([&ctx] { ctx.action = [&ctx] { return RunDigest(ctx); }; });
  }
}

}  // namespace leadlog::tool
