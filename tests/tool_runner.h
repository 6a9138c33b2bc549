// Running the built `leadlog` tool from a test: arguments, stdin and extra
// environment in; exit code, stdout and stderr out. Shared by the suites that
// drive the tool (cli_test.cc, live_reader_test.cc).
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace leadlog::testing {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;

  // stdout as JSON lines; every line must be one JSON object.
  std::vector<nlohmann::json> Lines() const;
  // stdout as exactly one JSON object.
  nlohmann::json One() const;
};

std::ostream& operator<<(std::ostream& os, const RunResult& r);

// Runs the built tool with `args`; `input` goes to its stdin. The test's own
// environment is passed on without LEADLOG_DB, plus `env`.
RunResult RunTool(const std::vector<std::string>& args, const std::string& input = "",
                  const std::vector<std::string>& env = {});

}  // namespace leadlog::testing
