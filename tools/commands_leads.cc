// import, lead, history, counts
//
// Invariants:
//  - import is one atomic engine call: either every valid row is added or,
//    on an error, nothing is. The rejects file is written next to its final
//    name and renamed into place, so nobody ever reads half of one; its
//    directory is checked before the import so that an unwritable path fails
//    before anything is imported.
//  - An argument starting with '+' is a phone number (every lead with it, in
//    every campaign); anything else must be a lead id.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "output.h"
#include "progress.h"

namespace leadlog::tool {

namespace {

// ---- import ----

struct ImportArgs {
  std::string campaign;
  std::string file;
  std::string region;
  std::string rejects;
};

std::string ReadInput(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Fail(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int err = errno;
  std::fclose(f);
  if (failed) Fail(fmt::format("cannot read {}: {}", path, std::strerror(err)));
  return data;
}

// The rejects file, created empty under a temporary name before the import
// (so an unwritable path fails first) and renamed into place at the end.
class RejectsFile {
 public:
  explicit RejectsFile(std::string path)
      : path_(std::move(path)), tmp_(fmt::format("{}.tmp-{}", path_, ::getpid())) {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (file_ == nullptr) {
      Fail(fmt::format("cannot write the rejects file {}: {}; nothing was imported", path_, std::strerror(errno)));
    }
  }
  ~RejectsFile() {
    if (file_ != nullptr) {
      std::fclose(file_);
      std::remove(tmp_.c_str());
    }
  }
  RejectsFile(const RejectsFile&) = delete;
  RejectsFile& operator=(const RejectsFile&) = delete;

  void Commit(const std::string& contents, uint64_t imported) {
    bool ok = std::fwrite(contents.data(), 1, contents.size(), file_) == contents.size();
    ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      int err = errno;
      std::remove(tmp_.c_str());
      Fail(fmt::format("imported {} but could not write the rejects file {}: {}", Plural(imported, "lead", "leads"),
                       path_, std::strerror(err)));
    }
  }

 private:
  std::string path_;
  std::string tmp_;
  FILE* file_ = nullptr;
};

int RunImport(Context& ctx, const ImportArgs& args) {
  AddOptions add;
  if (!args.region.empty()) add.default_region = ParseRegion(args.region);
  std::string data = ReadInput(args.file);
  std::unique_ptr<RejectsFile> rejects;
  if (!args.rejects.empty()) rejects = std::make_unique<RejectsFile>(args.rejects);

  ProgressBar bar("import");
  auto store = OpenStore(ctx, Access::kWrite, {.progress = bar.Fn()});
  Result<CsvImportSummary> r = ImportCsv(*store, args.campaign, data, add, ctx.now);
  bar.Finish();
  if (!r.ok()) {
    const Status& s = r.status();
    if (s.IsNotFound()) {
      FailStatus(s, fmt::format("create it with `leadlog campaign create {}`; nothing was imported", args.campaign));
    }
    if (s.code() == Status::Code::kInvalidArgument) {
      FailWith(s.code(), fmt::format("{}: {}", args.file, s.message()),
               "the first row must be a header naming a phone column; nothing was imported");
    }
    FailStatus(s);
  }
  const CsvImportSummary& sum = *r;
  if (rejects) rejects->Commit(FormatRejectsCsv(sum.rejects), sum.imported);

  if (ctx.json) {
    PrintJson({{"read", sum.read}, {"imported", sum.imported}, {"rejected", sum.rejected}, {"do_not_call", sum.do_not_call}});
    return kExitOk;
  }
  fmt::print("Imported {} of {} {} from {} into campaign {}", sum.imported, sum.read,
             sum.read == 1 ? "record" : "records", args.file == "-" ? "stdin" : args.file, Printable(args.campaign));
  if (sum.do_not_call > 0) {
    fmt::print(" ({} on the do-not-call list, recorded as do_not_call and never called)", sum.do_not_call);
  }
  fmt::print(".\n");
  if (sum.rejected == 0) return kExitOk;
  if (!args.rejects.empty()) {
    fmt::print("{} rejected; {} lists each with its line number and reason.\n", sum.rejected, args.rejects);
    return kExitOk;
  }
  constexpr size_t kShown = 10;
  fmt::print("{} rejected:\n", sum.rejected);
  Table t({"LINE", "REASON", "DETAIL"});
  t.RightAlign(0);
  for (size_t i = 0; i < sum.rejects.size() && i < kShown; ++i) {
    const CsvReject& rej = sum.rejects[i];
    t.AddRow({std::to_string(rej.line), std::string(RejectReasonName(rej.reason)), Printable(rej.detail)});
  }
  t.Print(stdout, "  ");
  if (sum.rejects.size() > kShown) fmt::print("  ... and {} more.\n", sum.rejects.size() - kShown);
  fmt::print("Write them all to a file with --rejects OUT.csv.\n");
  return kExitOk;
}

// ---- lead ----

void PrintLeadBlock(const Store& store, const LeadInfo& lead, const Redactor& redact, Timestamp now) {
  uint32_t max_attempts = 0;
  if (Result<Campaign> c = store.GetCampaign(lead.campaign_name); c.ok()) max_attempts = c->settings.max_attempts;
  fmt::print("Lead {} in campaign {}\n", lead.id, Printable(lead.campaign_name));
  Table t({"", ""});
  t.AddRow({"phone", redact.Phone(lead.profile.phone)});
  t.AddRow({"name", FullName(lead.profile, redact)});
  t.AddRow({"email", Printable(redact.Text(lead.profile.email))});
  t.AddRow({"status", std::string(LeadStatusName(lead.status))});
  std::string attempts = std::to_string(lead.attempts);
  if (max_attempts > 0) {
    attempts += fmt::format(" ({} of {} used in the current budget)", lead.attempts_used, max_attempts);
  }
  t.AddRow({"attempts", attempts});
  t.AddRow({"added", HumanTime(lead.added)});
  if (lead.due != 0) {
    t.AddRow({"next due", fmt::format("{} ({})", HumanTime(lead.due), Relative(lead.due, now))});
  } else if (lead.status == LeadStatus::kCalling) {
    t.AddRow({"next due", "- (a call is in progress)"});
  } else {
    t.AddRow({"next due", "- (will not be called again)"});
  }
  if (lead.lease_until != 0) {
    t.AddRow({"lease until", fmt::format("{} ({})", HumanTime(lead.lease_until), Relative(lead.lease_until, now))});
  }
  for (const CustomField& f : lead.profile.custom) {
    t.AddRow({Printable(f.key), Printable(redact.Text(f.value))});
  }
  t.Print(stdout, "  ");
}

int RunLead(Context& ctx, const std::string& arg, bool redact_on) {
  if (arg.empty() || arg[0] != '+') ParseLeadId(arg);  // a usage error before opening anything
  auto store = OpenStore(ctx, Access::kRead);
  Redactor redact(redact_on);
  std::vector<LeadInfo> leads = ResolveLeads(*store, arg);
  for (size_t i = 0; i < leads.size(); ++i) {
    if (ctx.json) {
      PrintJson(LeadJson(leads[i], redact));
    } else {
      if (i > 0) fmt::print("\n");
      PrintLeadBlock(*store, leads[i], redact, ctx.DisplayNow());
    }
  }
  return kExitOk;
}

// ---- history ----

int RunHistory(Context& ctx, const std::string& arg, bool redact_on) {
  if (arg.empty() || arg[0] != '+') ParseLeadId(arg);
  auto store = OpenStore(ctx, Access::kRead);
  Redactor redact(redact_on);
  std::vector<LeadInfo> leads = ResolveLeads(*store, arg);
  std::vector<LoggedEvent> events;
  for (const LeadInfo& lead : leads) {
    std::vector<LoggedEvent> one;
    Check(store->History(lead.id, &one));
    std::move(one.begin(), one.end(), std::back_inserter(events));
  }
  // The history of a phone includes its own do-not-call record, which
  // concerns no single lead: "was it called after it asked not to be?"
  if (!arg.empty() && arg[0] == '+') {
    if (Result<DncEntry> dnc = store->GetDoNotCall(arg); dnc.ok()) {
      LogFilter only;
      only.from = dnc->seq;
      only.to = dnc->seq;
      Check(store->ScanLog(only, [&](const LoggedEvent& e) {
        events.push_back(e);
        return true;
      }));
    }
  }
  // A phone's leads interleave in time: show them as the log has them.
  std::stable_sort(events.begin(), events.end(),
                   [](const LoggedEvent& a, const LoggedEvent& b) { return a.seq < b.seq; });
  CampaignNames names(*store);
  if (ctx.json) {
    for (const LoggedEvent& e : events) PrintJson(EventJson(e, names, redact));
    return kExitOk;
  }
  if (leads.size() == 1) {
    fmt::print("History of lead {} ({}, campaign {}), oldest first:\n", leads[0].id,
               redact.Phone(leads[0].profile.phone), Printable(leads[0].campaign_name));
  } else {
    fmt::print("History of the {} leads with phone {}, oldest first:\n", leads.size(), redact.Phone(arg));
  }
  Table t({"SEQ", "TIME", "LEAD", "EVENT", "DETAIL"});
  t.RightAlign(0);
  t.RightAlign(2);
  for (const LoggedEvent& e : events) {
    t.AddRow({std::to_string(e.seq), HumanTime(e.ts), e.lead == 0 ? "-" : std::to_string(e.lead),
              std::string(EventTypeName(e.type)), EventDetail(e, names, redact)});
  }
  t.Print(stdout, "  ");
  return kExitOk;
}

// ---- counts ----

int RunCounts(Context& ctx, const std::string& name) {
  auto store = OpenStore(ctx, Access::kRead);
  std::vector<CampaignCounts> all;
  if (!name.empty()) {
    Campaign c = Check(store->GetCampaign(name), "`leadlog campaign list` shows the campaigns");
    all.push_back({c, Check(store->Counts(name))});
  } else {
    all = store->AllCounts();
  }
  if (ctx.json) {
    for (const CampaignCounts& cc : all) PrintJson(CountsJson(cc.campaign.name, cc.counts));
  } else if (all.empty()) {
    fmt::print("No campaigns yet; create one with `leadlog campaign create NAME`.\n");
  } else {
    PrintCountsTable(all);
  }
  return kExitOk;
}

}  // namespace

void AddLeadCommands(CLI::App& app, Context& ctx) {
  {
    CLI::App* cmd = app.add_subcommand("import", "Add leads to a campaign from an RFC 4180 CSV file with a header row");
    auto args = std::make_shared<ImportArgs>();
    cmd->add_option("NAME", args->campaign, "Campaign name")->required();
    cmd->add_option("FILE", args->file, "CSV file (columns: phone, first_name, last_name, email, any custom); - for stdin")
        ->required();
    cmd->add_option("--default-region", args->region, "Region for national-format numbers, e.g. US")->type_name("CC");
    cmd->add_option("--rejects", args->rejects, "Write the rejected rows (line, reason, detail) to this CSV file")
        ->type_name("OUT.csv");
    SetExample(cmd, "leadlog import spring leads.csv --default-region US --rejects rejects.csv");
    cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return RunImport(ctx, *args); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("lead", "The current state of a lead (or of every lead with a phone number)");
    auto arg = std::make_shared<std::string>();
    auto redact = std::make_shared<bool>(false);
    cmd->add_option("ID|PHONE", *arg, "A lead id, or a phone number starting with +")->required();
    cmd->add_flag("--redact", *redact, "Mask phone numbers, names, emails and custom values");
    SetExample(cmd, "leadlog lead 42    |    leadlog --json lead +12015550123");
    cmd->callback([&ctx, arg, redact] { ctx.action = [&ctx, arg, redact] { return RunLead(ctx, *arg, *redact); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("history", "Every event of a lead (or of every lead with a phone), oldest first");
    auto arg = std::make_shared<std::string>();
    auto redact = std::make_shared<bool>(false);
    cmd->add_option("ID|PHONE", *arg, "A lead id, or a phone number starting with +")->required();
    cmd->add_flag("--redact", *redact, "Mask phone numbers, names, emails and custom values");
    SetExample(cmd, "leadlog history +12015550123 --redact");
    cmd->callback(
        [&ctx, arg, redact] { ctx.action = [&ctx, arg, redact] { return RunHistory(ctx, *arg, *redact); }; });
  }
  {
    CLI::App* cmd = app.add_subcommand("counts", "Leads per status, per campaign");
    auto name = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "Only this campaign");
    SetExample(cmd, "leadlog --json counts spring");
    cmd->callback([&ctx, name] { ctx.action = [&ctx, name] { return RunCounts(ctx, *name); }; });
  }
}

}  // namespace leadlog::tool
