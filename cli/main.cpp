// capexsim: the command line over the engine.
//   capexsim run SCENARIO.toml [--paths N] [--seed S] [--threads T] [--out DIR] [--per-path]
//   [--memory-limit SIZE] [--quiet] capexsim check SCENARIO.toml capexsim compare A.toml B.toml
//   [--paths N] [--seed S]
//   [--threads T] [--quiet] [--counterparty NAME=lab.toml] [--counterparty-a NAME=lab.toml]
//   [--counterparty-b NAME=lab.toml]
//   capexsim run SCENARIO.toml --shard K/N --out DIR ...   capexsim merge DIR... --out OUT
// Exit codes: 0 ok, 2 invalid input (or a run too large for memory, or an --out folder
// in use), 1 internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

// Each command lives in cli/cmd_NAME.cpp, which registers its options (command.hpp);
// main() builds the parser, picks the command and runs it under run_guarded().

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <tbb/global_control.h>
#include <CLI/CLI.hpp>

#include <capexsim/version.hpp>

#include "args.hpp"
#include "command.hpp"
#include "output.hpp"
#include "progress.hpp"

using namespace capexsim::cli;

namespace {

/// "run, check, compare, merge, sensitivity or calibrate".
std::string command_list(const std::vector<Command>& commands) {
  std::string list;
  for (std::size_t i = 0; i < commands.size(); ++i)
    list += (i == 0 ? "" : i + 1 == commands.size() ? " or " : ", ") + commands[i].app->get_name();
  return list;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "capexsim: Monte Carlo of an AI lab's compute buildout - how much outside money it needs, "
      "when, and how likely it is to run out.\nMoney in $B, capacity in GW, time in years."};
  app.set_version_flag("--version", std::string("capexsim ") + capexsim::version_string);
  app.require_subcommand(1);
  const std::vector<Command> commands = {add_run(app),   add_check(app),       add_compare(app),
                                         add_merge(app), add_sensitivity(app), add_calibrate(app)};

  // CLI11 reports a mistyped command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string cmd = argv[1];
    if (std::none_of(commands.begin(), commands.end(),
                     [&](const Command& c) { return c.app->get_name() == cmd; })) {
      print_error("unknown command '" + cmd + "'; expected " + command_list(commands) +
                  " (see 'capexsim --help')");
      return exit_invalid;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    print_error(std::string(e.what()) +
                "\nRun 'capexsim --help' (or 'capexsim COMMAND --help') for usage.");
    return exit_invalid;
  }
  const auto chosen = std::find_if(commands.begin(), commands.end(),
                                   [](const Command& c) { return c.app->parsed(); });
  if (chosen == commands.end()) return exit_internal;

  install_interrupt_handler();
  // --threads caps every parallel part of the command, the summaries' selection included.
  std::optional<tbb::global_control> thread_cap;
  int threads = 0;
  try {  // an invalid count is reported by the command itself
    threads = args::parse_threads(chosen->threads());
  } catch (const UsageError&) {
  }
  if (threads > 0) thread_cap.emplace(tbb::global_control::max_allowed_parallelism, threads);
  return run_guarded(chosen->run);
}
