// Running programs from a test: the built `leadlog` tool with arguments,
// stdin and extra environment in, exit code, stdout and stderr out (the
// suites that drive the tool: cli_test.cc, live_reader_test.cc); and any
// program run to its end with its output captured (the corruption, crash
// and hostile-input suites).
#pragma once

#include <nlohmann/json.hpp>
#include <sys/types.h>

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

// Starts `args` (args[0] is the program's path) as user `uid` when uid >= 0,
// its stdout and stderr appended to `log`; its pid. A child that cannot
// become `uid` exits 126, one that cannot run the program 127.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log, int uid = -1);
// Waits for `pid` to end; its wait status.
int Reap(pid_t pid);

// Runs `args` (args[0] is the program's path) to its end, as user `uid` when
// uid >= 0, its stdout and stderr together into *output (when not null). Its
// exit code; -1 when it did not exit normally, -2 when it could not become
// `uid`.
int RunProgram(const std::vector<std::string>& args, std::string* output, int uid = -1);

}  // namespace leadlog::testing
