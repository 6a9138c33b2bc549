// Global flags, failures, opening the database, argument parsing.
//
// Invariant: every failure path ends in a ToolError carrying one line that
// says what went wrong and, when there is one, what to do about it.
#include "cli.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace leadlog::tool {

void Fail(std::string message) { throw ToolError{kExitError, std::move(message)}; }

void UsageFail(std::string message) { throw ToolError{kExitUsage, std::move(message)}; }

namespace {

std::string_view DefaultHint(Status::Code code) {
  switch (code) {
    case Status::Code::kCorruption:
      return "`leadlog verify` reports every problem; damaged views (never the log) are repaired by `leadlog rebuild`";
    case Status::Code::kIOError:
      return "check the disk and the permissions of the database directory";
    case Status::Code::kNotSupported:
      return "use a leadlog at least as new as the one that wrote this database";
    case Status::Code::kIllegalTransition:
    case Status::Code::kConflict:
      return "see the lead's state with `leadlog lead ID` and its events with `leadlog history ID`";
    case Status::Code::kBusy:
      return "read-only commands (counts, lead, history, dump, verify...) still work";
    default:
      return "";
  }
}

}  // namespace

void FailStatus(const Status& status, std::string_view hint) {
  FailWith(status.code(), status.message().empty() ? status.ToString() : status.message(), hint);
}

void FailWith(Status::Code code, std::string message, std::string_view hint) {
  if (hint.empty()) hint = DefaultHint(code);
  // The engine sometimes already says what to run; one suggestion is enough.
  if (!hint.empty() && message.find("leadlog ") == std::string::npos) {
    message = fmt::format("{}; {}", message, hint);
  }
  throw ToolError{kExitError, std::move(message)};
}

void Context::Resolve() {
  if (!db_flag.empty()) {
    db = db_flag;
  } else if (const char* env = std::getenv("LEADLOG_DB"); env != nullptr && *env != '\0') {
    db = env;
  } else {
    db = "./leadlog.db";
  }
  if (!now_flag.empty()) now = ParseTimeFlag(now_flag, "--now");
}

Timestamp Context::DisplayNow() const {
  if (now != kClockNow) return now;
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
}

namespace {

// A RocksDB database always has a CURRENT file; a directory without one is
// not a database (of any kind) and opening it read-only would only fail less
// clearly.
bool DatabaseExists(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(dir) / "CURRENT", ec);
}

}  // namespace

std::unique_ptr<Store> OpenStore(const Context& ctx, Access access, const OpenExtras& extras) {
  if (access != Access::kCreate && !DatabaseExists(ctx.db)) {
    Fail(fmt::format("no leadlog database at {} (create one with `leadlog campaign create`, "
                     "or point --db or $LEADLOG_DB at an existing one)",
                     ctx.db));
  }
  Options options;
  options.read_only = access == Access::kRead;
  options.create_if_missing = access == Access::kCreate;
  if (extras.replay_damaged_views) options.on_damaged_views = Options::DamagedViews::kReplayLog;
  if (ctx.now != kClockNow) {
    Timestamp fixed = ctx.now;
    options.clock = [fixed] { return fixed; };
  }
  options.progress = extras.progress;

  std::unique_ptr<Store> store;
  Status s = Store::Open(options, ctx.db, &store);
  if (s.IsBusy()) {
    Fail(fmt::format("the database {} is in use by another process (a dialer?); "
                     "read-only commands (counts, lead, history, dump, verify...) still work",
                     ctx.db));
  }
  if (s.IsCorruption() && extras.corruption != nullptr) {
    *extras.corruption = s.message();
    return nullptr;
  }
  if (!s.ok()) {
    std::string message = s.message().empty() ? s.ToString() : s.message();
    if (message.find(ctx.db) == std::string::npos) message = fmt::format("cannot open {}: {}", ctx.db, message);
    FailWith(s.code(), std::move(message), "");
  }
  return store;
}

LeadId ParseLeadId(std::string_view text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    UsageFail(fmt::format("'{}' is not a lead id (a positive number) or a phone number (starting with '+')", text));
  }
  LeadId id = std::strtoull(std::string(text).c_str(), nullptr, 10);
  if (id == 0) UsageFail("lead ids start at 1");
  return id;
}

uint64_t ParsePositive(std::string_view text, std::string_view what, uint64_t max) {
  bool digits = !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string_view::npos;
  uint64_t value = digits ? std::strtoull(std::string(text).c_str(), nullptr, 10) : 0;
  if (!digits || value == 0 || value > max) {
    UsageFail(fmt::format("{} must be a whole number from 1 to {}, not '{}'", what, max, text));
  }
  return value;
}

std::string ParseRegion(std::string_view text) {
  std::string region;
  for (char c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') break;
    region.push_back(c);
  }
  if (region.size() != 2 || text.size() != 2) {
    UsageFail(fmt::format("--default-region takes a two-letter ISO 3166 region code such as US or GB, not '{}'", text));
  }
  return region;
}

Timestamp ParseTimeFlag(std::string_view text, std::string_view flag) {
  Result<Timestamp> t = ParseTime(text);
  if (!t.ok()) UsageFail(fmt::format("{}: {}", flag, t.status().message()));
  return *t;
}

Duration ParseDurationFlag(std::string_view text, std::string_view flag, bool allow_never) {
  Result<Duration> d = ParseDuration(text, allow_never);
  if (!d.ok()) {
    UsageFail(fmt::format("{} takes a duration such as 90s, 15m, 4h or 2d{}, not '{}'", flag,
                          allow_never ? " (or never)" : "", text));
  }
  return *d;
}

LeadStatus ParseOutcome(std::string_view text) {
  LeadStatus status;
  if (!ParseLeadStatus(text, &status) || !IsOutcome(status)) {
    UsageFail(fmt::format("unknown outcome '{}': use one of completed, no_answer, voicemail, failed", text));
  }
  return status;
}

CampaignNames::CampaignNames(const Store& store) {
  for (const Campaign& c : store.ListCampaigns()) {
    if (c.id >= names_.size()) names_.resize(c.id + 1);
    names_[c.id] = c.name;
  }
}

std::string CampaignNames::Name(CampaignId id) const {
  if (id == 0) return "";
  if (id < names_.size() && !names_[id].empty()) return names_[id];
  return fmt::format("#{}", id);
}

std::vector<LeadInfo> ResolveLeads(const Store& store, const std::string& arg) {
  if (!arg.empty() && arg[0] == '+') {
    std::vector<LeadInfo> leads =
        Check(store.FindLeadsByPhone(arg), "phone numbers are written in E.164, e.g. +12015550123");
    if (leads.empty()) Fail(fmt::format("no lead has the phone number {}", arg));
    return leads;
  }
  LeadId id = ParseLeadId(arg);
  return {Check(store.GetLead(id),
                "`leadlog dump --type lead_added` lists the leads; a phone number starts with + and its country code")};
}

void SetExample(CLI::App* app, std::string_view example) {
  app->footer(fmt::format("Example:\n  {}\n\nGlobal flags, before or after the command: --db DIR, --json, --now TIME "
                          "(see `leadlog --help`).",
                          example));
}

}  // namespace leadlog::tool
