// Scenario loading: the reference file, defaults, round trips, and every invalid input of
// MODEL.md §7 rejected with the key path, file, line and what was expected.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "capexsim/scenario.hpp"

using namespace capexsim;

namespace {

// A minimal valid scenario; line numbers matter to the error tests below.
const std::string minimal =
    "[simulation]\n"                // 1
    "start = 2026.0\n"              // 2
    "horizon_years = 5\n"           // 3
    "[build]\n"                     // 4
    "initial_gw = 1.0\n"            // 5
    "max_pace_gw_per_week = 0.1\n"  // 6
    "ramp_midpoint_years = 1.0\n"   // 7
    "ramp_width_years = 0.5\n"      // 8
    "lead_time_years = 1.0\n"       // 9
    "[cost]\n"                      // 10
    "cost_per_gw = 40.0\n"          // 11
    "it_share = 0.6\n"              // 12
    "useful_life_years = 5.0\n"     // 13
    "[revenue]\n"                   // 14
    "arr0 = 10.0\n"                 // 15
    "growth0 = 0.3\n"               // 16
    "arr_per_gw = 10.0\n";          // 17

// Replace the line that starts with `prefix` (keeps every line number).
std::string with_line(const std::string& prefix, const std::string& replacement) {
  std::string s = minimal;
  const auto at = s.find(prefix);
  REQUIRE(at != std::string::npos);
  const auto end = s.find('\n', at);
  return s.substr(0, at) + replacement + s.substr(end);
}

void expect_error(const std::string& text, const std::string& key, int line,
                  const std::string& fragment) {
  CAPTURE(text);
  try {
    (void)parse_scenario(text, "bad.toml");
    FAIL("no error for an invalid scenario; expected one naming " << key);
  } catch (const ScenarioError& e) {
    CAPTURE(e.what());
    CHECK(e.file() == "bad.toml");
    CHECK(e.key() == key);
    CHECK(e.line() == line);
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    CHECK(std::string(e.what()).find("bad.toml") == 0);
  }
}

}  // namespace

TEST_CASE("the reference scenario loads with the values of MODEL.md") {
  const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  CHECK(s.name == "ai-lab-2025");
  CHECK(s.start_year == 2026.0);
  CHECK(s.steps() == 120);
  CHECK(s[Param::cost_per_gw] == Distribution::triangular(40, 50, 60));
  CHECK(s[Param::max_pace_gw_per_week] == Distribution::triangular(0.25, 0.6, 1.0));
  CHECK(s[Param::learning_rate] == Distribution::uniform(0, 0.1));
  CHECK(s.has_plan_cap);
  CHECK(s[Param::plan_cap_gw].value() == 30.0);
  REQUIRE(s.contracts.size() == 3);
  CHECK(s.contracts[1].name == "oracle");
  CHECK(s.contracts[1].profile == Contract::Profile::ramp);
  CHECK(s.vendors.at(0).cap_bn.value() == 100.0);
  CHECK(s.correlation(0, 1) == 0.3);
  CHECK(s.correlation(3, 2) == 0.3);
  CHECK(s.checkpoints == std::vector<double>{2028.0, 2030.0});
}

TEST_CASE("defaults fill every optional key") {
  const Scenario s = parse_scenario(minimal, "dir/my-case.toml");
  CHECK(s.name == "my-case");  // the file's stem
  CHECK(s.step == StepKind::month);
  CHECK_FALSE(s.has_plan_cap);
  CHECK(s[Param::pace_reversion].value() == 1.0);
  CHECK(s[Param::growth_reversion].value() == 1.0);
  CHECK(s[Param::disruption_mean_years].value() == 0.25);
  CHECK(s[Param::disruption_multiplier].value() == 1.0);
  CHECK(s[Param::initial_cash].value() == 0.0);
  CHECK(s[Param::arr_volatility].value() == 0.0);
  CHECK(s.correlation.isIdentity());
}

TEST_CASE("to_toml round-trips the resolved scenario") {
  const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  const Scenario again = parse_scenario(to_toml(s), "roundtrip.toml");
  CHECK(again == s);
  CHECK(fingerprint(again) == fingerprint(s));
  Scenario changed = s;
  changed[Param::cost_per_gw] = Distribution::fixed(45);
  CHECK(fingerprint(changed) != fingerprint(s));
  // Correlation listed in a non-canonical order survives too.
  const std::string text = minimal +
                           "[correlation]\nshocks = [\"growth\", \"pace\"]\n"
                           "matrix = [[1.0, 0.4], [0.4, 1.0]]\n";
  const Scenario c = parse_scenario(text, "c.toml");
  CHECK(c.correlation(0, 3) == 0.4);
  CHECK(parse_scenario(to_toml(c), "c.toml") == c);
}

TEST_CASE("steps: month, week, quarter") {
  CHECK(parse_scenario(minimal).steps() == 60);
  std::string w = minimal;
  w.insert(w.find("[build]"), "step = \"week\"\n");
  CHECK(parse_scenario(w).steps() == 260);
  std::string q = minimal;
  q.insert(q.find("[build]"), "step = \"quarter\"\n");
  CHECK(parse_scenario(q).steps() == 20);
}

TEST_CASE("invalid scenarios are rejected with key, file, line and expectation") {
  SUBCASE("unknown keys") {
    expect_error(with_line("lead_time_years", "lead_time_yaers = 1.0"), "build.lead_time_yaers", 9,
                 "unknown key");
    expect_error(minimal + "[opex]\nfixed_opx = 1.0\n", "opex.fixed_opx", 19, "unknown key");
    expect_error(minimal + "colour = 1\n", "revenue.colour", 18, "unknown key");
    expect_error(with_line("cost_per_gw", "cost_per_gw = { uniform = [1, 2], mode = 3 }"),
                 "cost.cost_per_gw.mode", 11, "unknown key");
  }
  SUBCASE("wrong types") {
    expect_error(with_line("arr0", "arr0 = \"ten\""), "revenue.arr0", 15, "got a string");
    expect_error(with_line("horizon_years", "horizon_years = true"), "simulation.horizon_years", 3,
                 "expected a number");
    expect_error(with_line("cost_per_gw", "cost_per_gw = { uniform = [40, \"x\"] }"),
                 "cost.cost_per_gw.uniform[1]", 11, "expected a number");
    expect_error(with_line("cost_per_gw", "cost_per_gw = { uniform = [40, 50, 60] }"),
                 "cost.cost_per_gw.uniform", 11, "array of 2 numbers");
    expect_error(with_line("cost_per_gw", "cost_per_gw = { gamma = [1, 2] }"), "cost.cost_per_gw",
                 11, "one shape key");
  }
  SUBCASE("NaN and infinity") {
    expect_error(with_line("arr0", "arr0 = nan"), "revenue.arr0", 15, "finite");
    expect_error(with_line("cost_per_gw", "cost_per_gw = { uniform = [40, inf] }"),
                 "cost.cost_per_gw.uniform[1]", 11, "finite");
  }
  SUBCASE("distribution shapes") {
    expect_error(with_line("cost_per_gw", "cost_per_gw = { uniform = [60, 40] }"),
                 "cost.cost_per_gw", 11, "lo <= hi");
    expect_error(with_line("cost_per_gw", "cost_per_gw = { triangular = [40, 70, 60] }"),
                 "cost.cost_per_gw", 11, "mode 70.0 outside [40.0, 60.0]");
    expect_error(with_line("cost_per_gw", "cost_per_gw = { pert = [40, 30, 60] }"),
                 "cost.cost_per_gw", 11, "lo <= mode <= hi");
    expect_error(with_line("growth0", "growth0 = { normal = [0.3, -0.1] }"), "revenue.growth0", 16,
                 "sd >= 0");
    expect_error(with_line("growth0", "growth0 = { lognormal = [0.3, -0.1] }"), "revenue.growth0",
                 16, "sd >= 0");
    expect_error(with_line("growth0", "growth0 = { choice = [0.1, 0.2], weights = [0, 0] }"),
                 "revenue.growth0.weights", 16, "summing to a positive number");
    expect_error(with_line("growth0", "growth0 = { choice = [0.1, 0.2], weights = [1] }"),
                 "revenue.growth0.weights", 16, "expected 2 weights");
    expect_error(with_line("growth0", "growth0 = { choice = [0.1, 0.2], weights = [1, -1] }"),
                 "revenue.growth0.weights", 16, ">= 0");
    expect_error(with_line("growth0", "growth0 = { normal = [0.3, 0.1], min = 1, max = 0 }"),
                 "revenue.growth0", 16, "min <= max");
  }
  SUBCASE("ranges over the whole support") {
    expect_error(with_line("initial_gw", "initial_gw = 0.0"), "build.initial_gw", 5, "> 0");
    expect_error(with_line("initial_gw", "initial_gw = -1"), "build.initial_gw", 5, "> 0");
    expect_error(with_line("lead_time_years", "lead_time_years = 0"), "build.lead_time_years", 9,
                 "> 0");
    expect_error(with_line("useful_life_years", "useful_life_years = -2.0"),
                 "cost.useful_life_years", 13, "> 0");
    expect_error(with_line("useful_life_years", "useful_life_years = { normal = [5, 1] }"),
                 "cost.useful_life_years", 13, "needs `min`");
    expect_error(with_line("it_share", "it_share = { uniform = [0.5, 1.2] }"), "cost.it_share", 12,
                 "[0, 1]");
    expect_error(minimal + "[opex]\nrevenue_cost_share = 1.5\n", "opex.revenue_cost_share", 19,
                 "[0, 1]");
    expect_error(with_line("ramp_width_years", "ramp_width_years = 0"), "build.ramp_width_years", 8,
                 "> 0");
    expect_error(with_line("arr_per_gw", "arr_per_gw = { uniform = [0, 10] }"),
                 "revenue.arr_per_gw", 17, "> 0");
    std::string lr = minimal;
    lr.insert(lr.find("it_share"), "learning_rate = 1.0\n");
    expect_error(lr, "cost.learning_rate", 12, "[0, 1)");
    std::string vol = minimal;
    vol.insert(vol.find("[cost]"), "pace_volatility = -0.1\n");
    expect_error(vol, "build.pace_volatility", 10, ">= 0");
    std::string rev = minimal;
    rev.insert(rev.find("[cost]"), "pace_reversion = 0\n");
    expect_error(rev, "build.pace_reversion", 10, "> 0");
  }
  SUBCASE("plan cap below initial capacity") {
    std::string s = minimal;
    s.insert(s.find("max_pace"), "plan_cap_gw = 0.5\n");
    expect_error(s, "build.plan_cap_gw", 6, ">= build.initial_gw");
  }
  SUBCASE("missing required keys") {
    expect_error(with_line("arr_per_gw", "# none"), "revenue.arr_per_gw", 14,
                 "missing required key");
    expect_error(with_line("start", "# none"), "simulation.start", 1, "missing required key");
    expect_error("name = \"x\"\n", "simulation", 0, "missing required table");
  }
  SUBCASE("contracts") {
    expect_error(minimal + "[[contract]]\ntotal = 10\nstart = 2026\nyears = 0\n",
                 "contract[0].years", 21, "positive term");
    expect_error(minimal + "[[contract]]\ntotal = 10\nstart = 2026\nyears = -3\n",
                 "contract[0].years", 21, "positive term");
    expect_error(minimal + "[[contract]]\ntotal = -10\nstart = 2026\nyears = 3\n",
                 "contract[0].total", 19, ">= 0");
    expect_error(minimal + "[[contract]]\ntotal = 10\nyears = 3\n", "contract[0].start", 18,
                 "missing required key");
    expect_error(
        minimal + "[[contract]]\ntotal = 10\nstart = 2026\nyears = 3\nprofile = \"step\"\n",
        "contract[0].profile", 22, "\"flat\" or \"ramp\"");
    expect_error(minimal + "[[vendor_financing]]\nper_gw = 10\ncap = -1\n",
                 "vendor_financing[0].cap", 20, ">= 0");
    expect_error(minimal + "[[equity]]\nat = 2020\namount = 5\n", "equity[0].at", 19,
                 ">= simulation.start");
  }
  SUBCASE("correlation") {
    const std::string head = minimal + "[correlation]\nshocks = [\"pace\", \"cost\"]\n";  // 18-19
    expect_error(head + "matrix = [[1.0, 0.5], [0.4, 1.0]]\n", "correlation.matrix[0][1]", 20,
                 "symmetric");
    expect_error(head + "matrix = [[2.0, 0.5], [0.5, 1.0]]\n", "correlation.matrix[0][0]", 20,
                 "diagonal");
    expect_error(head + "matrix = [[1.0, 0.5, 0.1], [0.5, 1.0]]\n", "correlation.matrix[0]", 20,
                 "array of 2 numbers");
    expect_error(head + "matrix = [[1.0, 1.0], [1.0, 1.0]]\n", "correlation.matrix", 20,
                 "positive-definite");
    const std::string three = minimal + "[correlation]\nshocks = [\"pace\", \"cost\", \"arr\"]\n";
    expect_error(three + "matrix = [[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]\n",
                 "correlation.matrix", 20, "positive-definite");
    expect_error(minimal + "[correlation]\nshocks = [\"pace\", \"price\"]\nmatrix = [[1.0]]\n",
                 "correlation.shocks[1]", 19, "expected one of");
  }
  SUBCASE("simulation and outputs") {
    expect_error(with_line("horizon_years", "horizon_years = 0"), "simulation.horizon_years", 3,
                 "> 0");
    std::string s = minimal;
    s.insert(s.find("[build]"), "step = \"day\"\n");
    expect_error(s, "simulation.step", 4, "\"month\", \"week\" or \"quarter\"");
    expect_error(minimal + "[outputs]\ncheckpoints = [2035.0]\n", "outputs.checkpoints[0]", 19,
                 "inside the simulated horizon");
    expect_error(minimal + "[outputs]\ncheckpoints = [2027.0, 2027.0]\n", "outputs.checkpoints[1]",
                 19, "distinct");
  }
  SUBCASE("invalid TOML syntax") {
    expect_error(with_line("arr0", "arr0 = = 10"), "", 15, "invalid TOML");
  }
}

TEST_CASE("an unreadable file is a ScenarioError naming the file") {
  CHECK_THROWS_AS(load_scenario("/nonexistent/x.toml"), ScenarioError);
  try {
    (void)load_scenario("/nonexistent/x.toml");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/x.toml") != std::string::npos);
  }
}

TEST_CASE("validate() applies the same rules to scenarios built in code") {
  Scenario s = parse_scenario(minimal);
  s[Param::it_share] = Distribution::uniform(0.5, 1.5);
  CHECK_THROWS_WITH_AS(validate(s), doctest::Contains("cost.it_share"), ScenarioError);
}
