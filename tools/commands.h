// The leadlog commands. Each Add*Commands() registers subcommands on the
// app; a subcommand's callback only records what to run in Context::action,
// so nothing touches the database until the whole command line parsed.
#pragma once

#include "cli.h"

namespace CLI {
class App;
}

namespace leadlog::tool {

void AddCampaignCommands(CLI::App& app, Context& ctx);  // campaign create|update|list|show
void AddLeadCommands(CLI::App& app, Context& ctx);      // import, lead, history, counts
void AddDialerCommands(CLI::App& app, Context& ctx);    // claim, report, expire, dnc, requeue
void AddLogCommands(CLI::App& app, Context& ctx);       // dump, replay, verify, rebuild, digest
void AddSimulateCommand(CLI::App& app, Context& ctx);   // simulate

// The --version text: leadlog and the libraries it was built with.
std::string VersionText();

}  // namespace leadlog::tool
