// claim, report, expire, dnc add|check, requeue: what a dialer (or an
// operator standing in for one) does.
//
// Invariants:
//  - Every argument is checked before the database is opened: a bad lead id,
//    attempt or outcome is a usage error (exit 2) and writes nothing; a phone
//    that does not validate is an error (exit 1) before anything is created.
//  - The rules (due times, leases, do-not-call, idempotent reports) are the
//    engine's; the tool only passes --now through and shows the result.
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace leadlog::tool {

namespace {

constexpr int64_t kMaxClaim = 10000;

// Report and Expire return a lead's new state without its profile (name,
// email, custom fields) or its added time: the engine keeps those out of
// its hot path. The tool promises whole lead objects, so it reads them back
// from the same (exclusively held) store; the state fields stay as returned.
LeadInfo WithProfile(const Store& store, LeadInfo info) {
  if (info.added != 0 && !info.profile.phone.empty()) return info;
  if (Result<LeadInfo> full = store.GetLead(info.id); full.ok()) {
    info.profile = std::move(full->profile);
    info.added = full->added;
  }
  return info;
}

// ---- claim ----

struct ClaimArgs {
  std::string campaign;
  int64_t n = 1;
  std::string dialer = "leadlog-cli";
};

int RunClaim(Context& ctx, const ClaimArgs& args) {
  auto store = OpenStore(ctx, Access::kWrite);
  std::vector<ClaimedLead> claimed =
      Check(store->Claim(args.campaign, static_cast<size_t>(args.n), args.dialer, ctx.now),
            "`leadlog campaign list` shows the campaigns");
  if (ctx.json) {
    for (const ClaimedLead& c : claimed) PrintJson(ClaimJson(c, args.campaign));
    return kExitOk;
  }
  if (claimed.empty()) {
    fmt::print("No lead of campaign {} is due now.\n", Printable(args.campaign));
    return kExitOk;
  }
  fmt::print("Claimed {} of campaign {} for dialer {}; report each with `leadlog report LEAD ATTEMPT OUTCOME`:\n",
             Plural(claimed.size(), "lead", "leads"), Printable(args.campaign), Printable(args.dialer));
  Table t({"LEAD", "ATTEMPT", "PHONE", "NAME", "EMAIL", "LEASE_UNTIL", "CUSTOM"});
  t.RightAlign(0);
  t.RightAlign(1);
  Redactor none(false);
  for (const ClaimedLead& c : claimed) {
    t.AddRow({std::to_string(c.lead), std::to_string(c.attempt), c.profile.phone, FullName(c.profile, none),
              Printable(c.profile.email), HumanTime(c.lease_until), CustomText(c.profile.custom, none)});
  }
  t.Print(stdout, "  ");
  return kExitOk;
}

// ---- report ----

struct ReportArgs {
  std::string lead;
  std::string attempt;
  std::string outcome;
  std::string reason;
};

int RunReport(Context& ctx, const ReportArgs& args) {
  LeadId lead = ParseLeadId(args.lead);
  auto attempt = static_cast<uint32_t>(ParsePositive(args.attempt, "ATTEMPT", UINT32_MAX));
  LeadStatus outcome = ParseOutcome(args.outcome);
  auto store = OpenStore(ctx, Access::kWrite);
  LeadInfo info = WithProfile(*store, Check(store->Report(lead, attempt, outcome, args.reason, ctx.now),
                                            fmt::format("`leadlog history {}` shows its attempts and their outcomes", lead)));
  if (ctx.json) {
    PrintJson(LeadJson(info, Redactor(false)));
  } else {
    fmt::print("Recorded {} for attempt {} of lead {}.\n{}\n", LeadStatusName(outcome), attempt, lead,
               LeadStateSentence(info, ctx.DisplayNow()));
  }
  return kExitOk;
}

// ---- expire ----

int RunExpire(Context& ctx) {
  auto store = OpenStore(ctx, Access::kWrite);
  std::vector<LeadInfo> released = Check(store->Expire(ctx.now));
  for (LeadInfo& l : released) l = WithProfile(*store, std::move(l));
  Redactor none(false);
  if (ctx.json) {
    for (const LeadInfo& l : released) PrintJson(LeadJson(l, none));
    return kExitOk;
  }
  if (released.empty()) {
    fmt::print("No claim has run past its lease; nothing to release.\n");
    return kExitOk;
  }
  fmt::print("Released {} whose lease ran out with no outcome reported (each counts as a no_answer attempt):\n",
             Plural(released.size(), "claim", "claims"));
  Timestamp now = ctx.DisplayNow();
  Table t({"LEAD", "CAMPAIGN", "PHONE", "ATTEMPTS", "STATUS", "NEXT_DUE"});
  t.RightAlign(0);
  t.RightAlign(3);
  for (const LeadInfo& l : released) {
    t.AddRow({std::to_string(l.id), Printable(l.campaign_name), l.profile.phone, std::to_string(l.attempts),
              std::string(LeadStatusName(l.status)),
              l.due == 0 ? "- (no more attempts)" : fmt::format("{} ({})", HumanTime(l.due), Relative(l.due, now))});
  }
  t.Print(stdout, "  ");
  return kExitOk;
}

// ---- dnc ----

struct DncArgs {
  std::string phone;
  std::string reason;
  std::string region;
};

std::string NormalizeOrFail(const DncArgs& args, std::string* region) {
  if (!args.region.empty()) *region = ParseRegion(args.region);
  return Check(NormalizePhone(args.phone, *region));
}

int RunDncAdd(Context& ctx, const DncArgs& args) {
  std::string region;
  std::string phone = NormalizeOrFail(args, &region);  // before a database is created for it
  auto store = OpenStore(ctx, Access::kCreate);
  DncResult r = Check(store->AddDoNotCall(phone, args.reason, region, ctx.now));
  if (ctx.json) {
    PrintJson({{"phone", phone}, {"dnc", true}, {"newly_added", r.newly_added}, {"moved", r.moved}});
    return kExitOk;
  }
  if (!r.newly_added) {
    fmt::print("{} was already on the do-not-call list; nothing changed.\n", phone);
    return kExitOk;
  }
  fmt::print("{} is now on the do-not-call list", phone);
  if (r.moved.empty()) {
    fmt::print("; no lead had that number.\n");
  } else {
    fmt::print("; moved {} to do_not_call: {}.\n", Plural(r.moved.size(), "lead", "leads"), fmt::join(r.moved, ", "));
  }
  return kExitOk;
}

int RunDncCheck(Context& ctx, const DncArgs& args) {
  std::string region;
  std::string phone = NormalizeOrFail(args, &region);
  auto store = OpenStore(ctx, Access::kRead);
  bool listed = Check(store->IsDoNotCall(phone, region));
  DncEntry entry;
  if (listed) {
    if (Result<DncEntry> e = store->GetDoNotCall(phone, region); e.ok()) entry = *e;
  }
  if (ctx.json) {
    Json j = {{"phone", phone}, {"dnc", listed}};
    if (listed) {
      j["since"] = TimeJson(entry.ts);
      j["seq"] = entry.seq;
      j["reason"] = entry.reason;
    }
    PrintJson(j);
  } else if (listed) {
    fmt::print("{} is on the do-not-call list since {} (event {}{}).\n", phone, HumanTime(entry.ts), entry.seq,
               entry.reason.empty() ? "" : ", " + Printable(entry.reason));
  } else {
    fmt::print("{} is not on the do-not-call list.\n", phone);
  }
  return kExitOk;
}

// ---- requeue ----

int RunRequeue(Context& ctx, const std::string& lead_arg, const std::string& reason) {
  LeadId lead = ParseLeadId(lead_arg);
  auto store = OpenStore(ctx, Access::kWrite);
  LeadInfo info = WithProfile(*store, Check(store->Requeue(lead, reason, ctx.now)));
  if (ctx.json) {
    PrintJson(LeadJson(info, Redactor(false)));
  } else {
    fmt::print("Requeued lead {} with a fresh attempt budget.\n{}\n", lead, LeadStateSentence(info, ctx.DisplayNow()));
  }
  return kExitOk;
}

}  // namespace

void AddDialerCommands(CLI::App& app, Context& ctx) {
  {
    CLI::App* cmd = app.add_subcommand("claim", "Claim up to N due leads of a campaign for a dialer");
    auto args = std::make_shared<ClaimArgs>();
    cmd->add_option("NAME", args->campaign, "Campaign name")->required();
    cmd->add_option("-n", args->n, fmt::format("How many leads, 1 to {} (default 1)", kMaxClaim))
        ->check(CLI::Range(int64_t{1}, kMaxClaim))
        ->type_name("N");
    cmd->add_option("--dialer", args->dialer, "Who is calling (recorded in the log; default leadlog-cli)")
        ->type_name("ID");
    SetExample(cmd, "leadlog --json claim spring -n 10 --dialer dialer-1");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunClaim(ctx, *args); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("report", "Record how an attempt ended");
    auto args = std::make_shared<ReportArgs>();
    cmd->add_option("LEAD", args->lead, "Lead id")->required();
    cmd->add_option("ATTEMPT", args->attempt, "Attempt number (from claim)")->required();
    cmd->add_option("OUTCOME", args->outcome, "completed, no_answer, voicemail or failed")->required();
    cmd->add_option("--reason", args->reason, "Free text kept with the event")->type_name("TEXT");
    SetExample(cmd, "leadlog report 42 1 voicemail --reason \"left a message\"");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunReport(ctx, *args); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("expire", "End every claim whose lease has run out (a no_answer attempt)");
    SetExample(cmd, "leadlog --now 2026-12-04T10:30:00Z expire");
    cmd->callback([&ctx] { ctx.action = [&ctx] { return RunExpire(ctx); }; });
  }
  {
    CLI::App* dnc = app.add_subcommand("dnc", "The do-not-call list");
    dnc->require_subcommand(1);
    SetExample(dnc, "leadlog dnc add +12015550123 --reason \"asked on the call\"");
    {
      CLI::App* cmd = dnc->add_subcommand("add", "Put a phone on the do-not-call list (permanent; every lead with it "
                                                 "in every campaign moves to do_not_call)");
      auto args = std::make_shared<DncArgs>();
      cmd->add_option("PHONE", args->phone, "The phone number, E.164 (+...) or national with --default-region")
          ->required();
      cmd->add_option("--reason", args->reason, "Why (kept with the event)")->type_name("TEXT");
      cmd->add_option("--default-region", args->region, "Region for a national-format number, e.g. US")
          ->type_name("CC");
      SetExample(cmd, "leadlog dnc add \"(201) 555-0123\" --default-region US --reason \"asked on the call\"");
      cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunDncAdd(ctx, *args); }; });
    }
    {
      CLI::App* cmd = dnc->add_subcommand("check", "Is a phone on the do-not-call list?");
      auto args = std::make_shared<DncArgs>();
      cmd->add_option("PHONE", args->phone, "The phone number, E.164 (+...) or national with --default-region")
          ->required();
      cmd->add_option("--default-region", args->region, "Region for a national-format number, e.g. US")
          ->type_name("CC");
      SetExample(cmd, "leadlog --json dnc check +12015550123");
      cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunDncCheck(ctx, *args); }; });
    }
  }
  {
    CLI::App* cmd = app.add_subcommand("requeue", "Put a finished lead back to pending with a fresh attempt budget");
    auto lead = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    cmd->add_option("LEAD", *lead, "Lead id")->required();
    cmd->add_option("--reason", *reason, "Why (kept with the event)")->type_name("TEXT");
    SetExample(cmd, "leadlog requeue 42 --reason \"customer asked to be called back\"");
    cmd->callback([&ctx, lead, reason] { ctx.action = [&ctx, lead, reason] { return RunRequeue(ctx, *lead, *reason); }; });
  }
}

}  // namespace leadlog::tool
