// The shared plumbing of the leadlog tool: the global flags, how a command
// fails, how the database is opened, and how arguments are parsed.
//
// Invariants:
//  - A command never calls exit(): it returns an exit code or throws ToolError,
//    and main() is the only place that prints a failure and picks the code.
//    That keeps every error on one line of stderr starting "leadlog: error: ".
//  - Exit codes: 0 success, 1 error, 2 usage error, 3 audit found problems.
//  - Read-only commands never open the database for writing (a RocksDB
//    secondary), so they work beside a live dialer; only `campaign create`,
//    `dnc add` and `simulate` may create a database that does not exist.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "leadlog/leadlog.h"

namespace CLI {
class App;
}

namespace leadlog::tool {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitProblems = 3;

// Thrown by commands; caught in main(). `message` is the text after the
// "leadlog: error: " prefix.
struct ToolError {
  int code;
  std::string message;
};

[[noreturn]] void Fail(std::string message);       // exit 1
[[noreturn]] void UsageFail(std::string message);  // exit 2
// Exit 1 with the engine's message and a hint of what to do next. `hint`
// replaces the default hint for the status code; pass "" for the default.
[[noreturn]] void FailStatus(const Status& status, std::string_view hint = "");
// The same with a message of the tool's own for a status code.
[[noreturn]] void FailWith(Status::Code code, std::string message, std::string_view hint = "");
inline void Check(const Status& status, std::string_view hint = "") {
  if (!status.ok()) FailStatus(status, hint);
}
template <class T>
T Check(Result<T> result, std::string_view hint = "") {
  if (!result.ok()) FailStatus(result.status(), hint);
  return std::move(result).value();
}

// The global flags and what the command runs once parsing succeeded.
struct Context {
  std::string db_flag;   // --db as given (empty: $LEADLOG_DB, else ./leadlog.db)
  bool json = false;     // --json
  std::string now_flag;  // --now as given

  // Resolved by Resolve() after parsing.
  std::string db;
  Timestamp now = kClockNow;  // what every engine call gets as `now`

  std::function<int()> action;  // set by the chosen subcommand's callback

  void Resolve();
  // The time used for display ("in 1h", "3m ago"): --now, else the system clock.
  Timestamp DisplayNow() const;
};

enum class Access {
  kRead,    // a RocksDB secondary: works while a dialer writes
  kWrite,   // the primary; refuses a database that does not exist
  kCreate,  // the primary; creates the database when missing
};

struct OpenExtras {
  bool replay_damaged_views = false;  // verify and rebuild work on damaged views
  ProgressFn progress;
  // When set, an Open that finds damaged views (Status::Corruption) is not an
  // error: the message lands here and OpenStore returns null. For
  // `replay --verify`, where damage is the finding, not a failure.
  std::string* corruption = nullptr;
};

std::unique_ptr<Store> OpenStore(const Context& ctx, Access access, const OpenExtras& extras = {});

// A lead id: a positive decimal integer. Anything else is a usage error.
LeadId ParseLeadId(std::string_view text);
// A positive integer for `what` (e.g. "attempt"), at most `max`.
uint64_t ParsePositive(std::string_view text, std::string_view what, uint64_t max);
// A region code for --default-region: two ASCII letters, returned upper-case.
std::string ParseRegion(std::string_view text);
// --now, --until: RFC 3339.
Timestamp ParseTimeFlag(std::string_view text, std::string_view flag);
// Durations for --lease ("15m") and --retry ("4h", "never").
Duration ParseDurationFlag(std::string_view text, std::string_view flag, bool allow_never);
// A report/retry outcome: completed, no_answer, voicemail or failed.
LeadStatus ParseOutcome(std::string_view text);

// The campaign names by id, for events that only carry the id.
class CampaignNames {
 public:
  explicit CampaignNames(const Store& store);
  // The name, or "#<id>" when unknown; "" for id 0.
  std::string Name(CampaignId id) const;

 private:
  std::vector<std::string> names_;  // index: campaign id
};

// The leads an ID|PHONE argument names: a '+' argument is a phone (every lead
// with it, in every campaign, by id), anything else a lead id. Fails (exit 1)
// when there is none, (exit 2) when the argument is neither.
std::vector<LeadInfo> ResolveLeads(const Store& store, const std::string& arg);

// Adds the CLI11 footer with an example to a subcommand's --help.
void SetExample(CLI::App* app, std::string_view example);

}  // namespace leadlog::tool
