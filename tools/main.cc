// leadlog: the command-line tool for operators and compliance staff.
//
//   leadlog [--db DIR] [--json] [--now TIME] COMMAND ...
//
// Invariants:
//  - The exit code says how it went: 0 success, 1 error, 2 usage error,
//    3 the audit (verify, replay --verify) found problems.
//  - Every failure is one line on stderr starting "leadlog: error: ".
//  - Parsing finishes before any command touches the database, so a usage
//    error never leaves anything half-done.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli.h"
#include "commands.h"

namespace {

// "leadlog campaign create": the subcommands the user got as far as.
std::string CommandPath(const CLI::App* app) {
  std::string path = "leadlog";
  const CLI::App* at = app;
  while (at != nullptr) {
    auto subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    path += " " + at->get_name();
  }
  return path;
}

void PrintError(const std::string& message) { fmt::print(stderr, "leadlog: error: {}\n", message); }

}  // namespace

int main(int argc, char** argv) {
  using namespace leadlog::tool;
  Context ctx;

  CLI::App app{"leadlog: inspect, operate and audit a leadlog database of outbound-call leads.", "leadlog"};
  app.fallthrough();  // global flags may also follow the command: `leadlog counts --json`
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionText(), "Print the versions of leadlog and its libraries, and exit");
  app.add_option("--db", ctx.db_flag, "The database directory (default: $LEADLOG_DB, else ./leadlog.db)")
      ->type_name("DIR");
  app.add_flag("--json", ctx.json, "Machine-readable output: one JSON object per line");
  app.add_option("--now", ctx.now_flag, "The clock for this command, RFC 3339 (default: the system clock)")
      ->type_name("TIME");
  app.footer(
      "Exit codes: 0 success, 1 error, 2 usage error, 3 verify found problems.\n"
      "Example:\n"
      "  leadlog campaign create spring --max-attempts 3 --retry no_answer=1h\n"
      "  leadlog import spring leads.csv --rejects rejects.csv\n"
      "  leadlog counts\n"
      "Run `leadlog COMMAND --help` for the flags of a command.");
  app.failure_message([](const CLI::App* root, const CLI::Error& e) {
    // CLI11 words a missing or misspelt command "A subcommand is required".
    const CLI::App* at = root;
    while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
    if (e.get_name() == "RequiredError" && !at->get_subcommands({}).empty()) {
      std::vector<std::string> rest = at->remaining();
      if (rest.empty()) rest = root->remaining();
      std::string commands;
      for (const CLI::App* sub : at->get_subcommands({})) commands += (commands.empty() ? "" : ", ") + sub->get_name();
      return fmt::format("leadlog: error: {}; the commands are {} (see `{} --help`)\n",
                         rest.empty() ? std::string("give a command") : fmt::format("unknown command '{}'", rest.front()),
                         commands, CommandPath(root));
    }
    return fmt::format("leadlog: error: {} (see `{} --help`)\n", e.what(), CommandPath(root));
  });

  AddCampaignCommands(app, ctx);
  AddLeadCommands(app, ctx);
  AddDialerCommands(app, ctx);
  AddLogCommands(app, ctx);
  AddSimulateCommand(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, the version, or the error
    return code == 0 ? kExitOk : kExitUsage;
  }

  int code = kExitError;
  try {
    ctx.Resolve();
    if (!ctx.action) UsageFail(fmt::format("give a command (see `{} --help`)", CommandPath(&app)));
    code = ctx.action();
  } catch (const ToolError& e) {
    std::fflush(stdout);
    PrintError(e.message);
    code = e.code;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    PrintError(fmt::format("unexpected failure: {}", e.what()));
    code = kExitError;
  }
  if (std::fflush(stdout) != 0 && code == kExitOk) {
    PrintError("could not write the output");
    code = kExitError;
  }
  return code;
}
