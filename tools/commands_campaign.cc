// campaign create | update | list | show
//
// Invariants:
//  - `update` starts from the settings in force and changes only what the
//    flags name, so `--lease 5m` never resets the retry delays.
//  - Flag values are checked before the database is opened: a bad duration
//    is a usage error (exit 2) and writes nothing.
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"

namespace leadlog::tool {

namespace {

struct SettingsFlags {
  uint32_t max_attempts = 0;
  std::vector<std::string> retry;
  std::string lease;
  CLI::Option* max_attempts_opt = nullptr;

  void Add(CLI::App* cmd) {
    max_attempts_opt = cmd->add_option("--max-attempts", max_attempts, "Calls per lead per attempt budget (default 3)")
                           ->check(CLI::Range(1u, 1000u))
                           ->type_name("N");
    cmd->add_option("--retry", retry,
                    "Retry delay of an outcome: no_answer=1h, voicemail=4h, failed=never (repeatable; "
                    "defaults no_answer=1h, voicemail=4h, failed=never)")
        ->type_name("OUTCOME=DURATION")
        ->allow_extra_args(false);  // one OUTCOME=DURATION per --retry: NAME must not be swallowed
    cmd->add_option("--lease", lease, "How long a claim lasts before `expire` releases it (default 15m)")
        ->type_name("DURATION");
  }

  bool any() const { return max_attempts_opt->count() > 0 || !retry.empty() || !lease.empty(); }

  // Applies the flags to `s`; usage errors for bad values.
  void ApplyTo(CampaignSettings* s) const {
    if (max_attempts_opt->count() > 0) s->max_attempts = max_attempts;
    for (const std::string& r : retry) {
      size_t eq = r.find('=');
      if (eq == std::string::npos) {
        UsageFail(fmt::format("--retry takes OUTCOME=DURATION such as no_answer=1h or failed=never, not '{}'", r));
      }
      std::string outcome = r.substr(0, eq);
      Duration d = ParseDurationFlag(r.substr(eq + 1), "--retry " + outcome, /*allow_never=*/true);
      if (d != kNever && d <= 0) UsageFail(fmt::format("--retry {}: the delay must be positive (or never)", outcome));
      if (outcome == "no_answer") {
        s->retry_no_answer = d;
      } else if (outcome == "voicemail") {
        s->retry_voicemail = d;
      } else if (outcome == "failed") {
        s->retry_failed = d;
      } else {
        UsageFail(fmt::format("--retry: '{}' is not a retryable outcome; use no_answer, voicemail or failed", outcome));
      }
    }
    if (!lease.empty()) {
      Duration d = ParseDurationFlag(lease, "--lease", /*allow_never=*/false);
      if (d <= 0) UsageFail("--lease must be positive");
      s->lease = d;
    }
  }
};

void PrintCampaignSentence(const char* verb, const Campaign& c) {
  fmt::print("{} campaign {}: up to {} per lead, {}, lease {}.\n", verb, Printable(c.name),
             Plural(c.settings.max_attempts, "attempt", "attempts"), RetryText(c.settings),
             HumanDuration(c.settings.lease));
}

int RunCreate(Context& ctx, const std::string& name, const SettingsFlags& flags) {
  CampaignSettings settings;
  flags.ApplyTo(&settings);
  auto store = OpenStore(ctx, Access::kCreate);
  Campaign c = Check(store->CreateCampaign(name, settings, ctx.now),
                     fmt::format("`leadlog campaign update {}` changes the settings of an existing campaign", name));
  if (ctx.json) {
    PrintJson(CampaignJson(c));
  } else {
    PrintCampaignSentence("Created", c);
  }
  return kExitOk;
}

int RunUpdate(Context& ctx, const std::string& name, const SettingsFlags& flags) {
  if (!flags.any()) UsageFail("nothing to change: give --max-attempts, --retry or --lease");
  auto store = OpenStore(ctx, Access::kWrite);
  Campaign current = Check(store->GetCampaign(name), "`leadlog campaign list` shows the campaigns");
  CampaignSettings settings = current.settings;
  flags.ApplyTo(&settings);
  Campaign c = Check(store->UpdateCampaign(name, settings, ctx.now));
  if (ctx.json) {
    PrintJson(CampaignJson(c));
  } else {
    PrintCampaignSentence("Updated", c);
    fmt::print("The new settings apply from {} on; earlier events keep the settings then in force.\n",
               HumanTime(ctx.DisplayNow()));
  }
  return kExitOk;
}

void PrintCampaignTable(const std::vector<Campaign>& campaigns) {
  Table t({"CAMPAIGN", "ID", "MAX_ATTEMPTS", "RETRY_NO_ANSWER", "RETRY_VOICEMAIL", "RETRY_FAILED", "LEASE", "CREATED"});
  t.RightAlign(1);
  t.RightAlign(2);
  for (const Campaign& c : campaigns) {
    t.AddRow({Printable(c.name), std::to_string(c.id), std::to_string(c.settings.max_attempts),
              HumanDuration(c.settings.retry_no_answer), HumanDuration(c.settings.retry_voicemail),
              HumanDuration(c.settings.retry_failed), HumanDuration(c.settings.lease), HumanTime(c.created)});
  }
  t.Print();
}

int RunList(Context& ctx) {
  auto store = OpenStore(ctx, Access::kRead);
  std::vector<Campaign> campaigns = store->ListCampaigns();
  if (ctx.json) {
    for (const Campaign& c : campaigns) PrintJson(CampaignJson(c));
  } else if (campaigns.empty()) {
    fmt::print("No campaigns yet; create one with `leadlog campaign create NAME`.\n");
  } else {
    PrintCampaignTable(campaigns);
  }
  return kExitOk;
}

int RunShow(Context& ctx, const std::string& name) {
  auto store = OpenStore(ctx, Access::kRead);
  Campaign c = Check(store->GetCampaign(name), "`leadlog campaign list` shows the campaigns");
  if (ctx.json) {
    PrintJson(CampaignJson(c));
    return kExitOk;
  }
  Table t({"SETTING", "VALUE"});
  t.AddRow({"campaign", Printable(c.name)});
  t.AddRow({"id", std::to_string(c.id)});
  t.AddRow({"created", HumanTime(c.created)});
  t.AddRow({"max attempts", std::to_string(c.settings.max_attempts)});
  t.AddRow({"retry no_answer", HumanDuration(c.settings.retry_no_answer)});
  t.AddRow({"retry voicemail", HumanDuration(c.settings.retry_voicemail)});
  t.AddRow({"retry failed", HumanDuration(c.settings.retry_failed)});
  t.AddRow({"lease", HumanDuration(c.settings.lease)});
  t.Print();
  if (Result<StatusCounts> counts = store->Counts(name); counts.ok()) {
    fmt::print("\n");
    PrintCountsTable({CampaignCounts{c, *counts}});
  }
  return kExitOk;
}

}  // namespace

void AddCampaignCommands(CLI::App& app, Context& ctx) {
  CLI::App* campaign = app.add_subcommand("campaign", "Create, change and list campaigns");
  campaign->require_subcommand(1);
  SetExample(campaign, "leadlog campaign create spring --max-attempts 4 --retry voicemail=2h --lease 10m");

  {
    CLI::App* cmd = campaign->add_subcommand("create", "Create a campaign with its retry settings");
    auto name = std::make_shared<std::string>();
    auto flags = std::make_shared<SettingsFlags>();
    cmd->add_option("NAME", *name, "Campaign name")->required();
    flags->Add(cmd);
    SetExample(cmd, "leadlog campaign create spring --max-attempts 4 --retry no_answer=2h --retry failed=never");
    cmd->callback([&ctx, name, flags] { ctx.action = [&ctx, name, flags] { return RunCreate(ctx, *name, *flags); }; });
  }
  {
    CLI::App* cmd = campaign->add_subcommand("update", "Change a campaign's retry settings from now on (an event)");
    auto name = std::make_shared<std::string>();
    auto flags = std::make_shared<SettingsFlags>();
    cmd->add_option("NAME", *name, "Campaign name")->required();
    flags->Add(cmd);
    SetExample(cmd, "leadlog campaign update spring --retry voicemail=2h --max-attempts 5");
    cmd->callback([&ctx, name, flags] { ctx.action = [&ctx, name, flags] { return RunUpdate(ctx, *name, *flags); }; });
  }
  {
    CLI::App* cmd = campaign->add_subcommand("list", "List the campaigns and their settings");
    SetExample(cmd, "leadlog --json campaign list");
    cmd->callback([&ctx] { ctx.action = [&ctx] { return RunList(ctx); }; });
  }
  {
    CLI::App* cmd = campaign->add_subcommand("show", "Show one campaign's settings and counts");
    auto name = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "Campaign name")->required();
    SetExample(cmd, "leadlog campaign show spring");
    cmd->callback([&ctx, name] { ctx.action = [&ctx, name] { return RunShow(ctx, *name); }; });
  }
}

}  // namespace leadlog::tool
