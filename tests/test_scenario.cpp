// Scenario loading: the reference file, defaults, round trips, every invalid input of the
// format (docs/model.md section 8) rejected with the key path, file, line and what was
// expected, the plausibility limits, the pre-parse limits, and the key table against the
// table in docs/model.md.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "capexsim/random.hpp"
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

TEST_CASE("the reference scenario loads with the values of its file") {
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
        "contract[0].profile", 22, "\"flat\", \"ramp\" or \"delivery\"");
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

TEST_CASE("[outputs] headline names an output of the scenario's run") {
  // Unknown: an error at the key that lists the outputs this run has (checkpoints included).
  expect_error(minimal + "[outputs]\ncheckpoints = [2028.0]\nheadline = \"funding_gapp\"\n",
               "outputs.headline", 20, "unknown output 'funding_gapp'; expected one of");
  expect_error(minimal + "[outputs]\nheadline = \"debt_peak\"\n", "outputs.headline", 19,
               "funding_gap, gap_time");  // an optional output this scenario does not have
  expect_error(minimal + "[outputs]\nheadline = 3\n", "outputs.headline", 19, "expected a string");
  // Known: kept, written back, and part of the fingerprint only when set.
  const Scenario s =
      parse_scenario(minimal + "[outputs]\ncheckpoints = [2028.0]\nheadline = \"arr_at_2028\"\n");
  CHECK(s.headline == "arr_at_2028");
  CHECK(to_toml(s).find("headline = \"arr_at_2028\"") != std::string::npos);
  CHECK(parse_scenario(to_toml(s)) == s);
  const Scenario plain = parse_scenario(minimal);
  CHECK(plain.headline.empty());
  CHECK(to_toml(plain).find("headline") == std::string::npos);
  CHECK(fingerprint(plain) !=
        fingerprint(parse_scenario(minimal + "[outputs]\nheadline = \"runway\"\n")));
  Scenario coded = plain;
  coded.headline = "nope";
  CHECK_THROWS_WITH_AS(validate(coded), doctest::Contains("outputs.headline"), ScenarioError);
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

TEST_CASE("the key table: one line per Param, unique keys, consistent defaults") {
  std::set<std::string> seen;
  std::array<int, param_count> lines{};
  for (const KeyInfo& k : scenario_keys()) {
    const std::string name = std::string(k.section) + "." + k.key;
    CAPTURE(name);
    CHECK(seen.insert(name).second);
    CHECK(find_key(k.section, k.key) == &k);
    CHECK(std::string(k.description).size() > 0);
    CHECK(k.plausible_max > 0);
    // Its example value passes its own plausibility limit.
    CHECK(std::abs(k.example) <= k.plausible_max);
    if (k.param == Param::count_) continue;
    ++lines[static_cast<std::size_t>(k.param)];
    CHECK(k.type == KeyType::distribution);
    const ParamInfo& info = param_info(k.param);
    CHECK(std::string(info.key) == k.key);
    CHECK(std::string(info.section) == k.section);
    CHECK(info.required == k.required);
    CHECK(info.plausible_max == k.plausible_max);
    // An optional input's default is a number (plan_cap_gw's absence means "no cap").
    if (!k.required && k.param != Param::plan_cap_gw) CHECK(std::isfinite(k.default_value));
  }
  for (std::size_t i = 0; i < param_count; ++i) CHECK(lines[i] == 1);
  CHECK(find_key("cost", "no_such_key") == nullptr);
}

TEST_CASE("outputs.thresholds is documented as the table the loader reads (issue 26)") {
  // The reference table said "array of inline tables"; the loader wants one table.
  const std::string md = scenario_keys_markdown();
  CHECK(md.find("| `outputs.thresholds` | v2 | inline table of numbers or arrays of numbers |") !=
        std::string::npos);
  const std::string head = minimal + "[outputs]\n";
  const Scenario s =
      parse_scenario(head + "thresholds = { funding_gap = [1, 2], runway = 3 }\n", "t");
  REQUIRE(s.thresholds.size() == 2);
  CHECK_THROWS_AS(parse_scenario(head + "thresholds = [{ funding_gap = 1 }]\n", "t"),
                  ScenarioError);
}

TEST_CASE("docs/model.md lists every key of the key table, as the table generates it") {
  const std::filesystem::path doc = std::filesystem::path(CAPEXSIM_SOURCE_DIR) / "docs/model.md";
  std::ifstream in(doc);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string begin = "<!-- keys:begin -->\n", end = "<!-- keys:end -->";
  const auto b = text.find(begin), e = text.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  const std::string expected = scenario_keys_markdown();
  const std::string actual = text.substr(b + begin.size(), e - b - begin.size());
  // After changing the key table, refresh the doc: CAPEXSIM_UPDATE_DOCS=1 test_scenario
  if (actual != expected && std::getenv("CAPEXSIM_UPDATE_DOCS")) {
    text.replace(b + begin.size(), e - b - begin.size(), expected);
    std::ofstream(doc, std::ios::binary) << text;
    MESSAGE("rewrote the key table of " << doc.string());
    return;
  }
  CHECK_MESSAGE(actual == expected,
                "docs/model.md's key table is stale; run "
                "CAPEXSIM_UPDATE_DOCS=1 build/tests/test_scenario");
  for (const KeyInfo& k : scenario_keys()) {
    CAPTURE(k.key);
    CHECK(actual.find(std::string(k.key) + "`") != std::string::npos);
  }
}

TEST_CASE("implausible magnitudes are refused as a likely unit mistake") {
  // Dollars instead of $B.
  expect_error(with_line("cost_per_gw", "cost_per_gw = 50e9"), "cost.cost_per_gw", 11,
               "expected $B/GW, e.g. 50; got 5e+10");
  expect_error(with_line("cost_per_gw", "cost_per_gw = 1e300"), "cost.cost_per_gw", 11,
               "looks like the wrong unit");
  expect_error(with_line("arr0", "arr0 = 20e9"), "revenue.arr0", 15,
               "expected $B/year, e.g. 20; got 2e+10");
  // Every parameter of a distribution counts, not only its support.
  expect_error(with_line("cost_per_gw", "cost_per_gw = { lognormal = [5e10, 1.0] }"),
               "cost.cost_per_gw", 11, "wrong unit");
  expect_error(with_line("arr0", "arr0 = { normal = [20.0, 1.0], min = 1.0, max = 1e9 }"),
               "revenue.arr0", 15, "wrong unit");
  expect_error(with_line("initial_gw", "initial_gw = 2e6"), "build.initial_gw", 5, "GW");
  // Amounts of contracts, vendors and equity.
  expect_error(minimal + "[[contract]]\ntotal = 3e11\nstart = 2026.0\nyears = 5.0\n",
               "contract[0].total", 19, "expected $B");
  expect_error(minimal + "[[vendor_financing]]\nper_gw = 1e10\ncap = 100.0\n",
               "vendor_financing[0].per_gw", 19, "expected $B/GW");
  expect_error(minimal + "[[equity]]\nat = 2027.0\namount = 4e9\n", "equity[0].amount", 20,
               "expected $B");
  // Just under a limit is accepted (a big but real number passes).
  CHECK_NOTHROW(parse_scenario(with_line("cost_per_gw", "cost_per_gw = 9999.0")));
  CHECK_NOTHROW(parse_scenario(with_line("arr0", "arr0 = 99999.0")));
  CHECK_NOTHROW(parse_scenario(with_line("growth0", "growth0 = -5.0")));
  // The scenarios the project ships are all plausible.
  for (const auto& f : std::filesystem::directory_iterator(
           std::filesystem::path(CAPEXSIM_SOURCE_DIR) / "scenarios")) {
    CAPTURE(f.path().string());
    CHECK_NOTHROW(load_scenario(f.path()));
  }
}

TEST_CASE("keys with very many dotted parts are refused before the TOML parser sees them") {
  auto dotted = [](int parts) {
    std::string k = "a";
    for (int i = 1; i < parts; ++i) k += ".a";
    return k;
  };
  // 40,000 parts overflowed toml++ 3.3's stack (SIGSEGV); now an error with the line.
  for (const std::string& text :
       {minimal + dotted(40000) + " = 1\n", minimal + "[" + dotted(40000) + "]\n",
        minimal + "[[" + dotted(40000) + "]]\n", minimal + "x = { " + dotted(40000) + " = 1 }\n",
        minimal + "x = [{ b = 1 }, { " + dotted(40000) + " = 1 }]\n"}) {
    try {
      (void)parse_scenario(text, "deep.toml");
      FAIL("no error for a key with 40,000 parts");
    } catch (const ScenarioError& e) {
      CHECK(e.line() == 18);
      CHECK(std::string(e.what()).find("more than 64 dotted parts") != std::string::npos);
    }
  }
  // 64 parts pass the pre-scan (then fail as an unknown key, from the loader).
  CHECK_THROWS_WITH_AS(parse_scenario(minimal + dotted(64) + " = 1\n"),
                       doctest::Contains("unknown key"), ScenarioError);
  // Dots in values, strings and comments are not key parts.
  const std::string dots(200, '.');
  std::string numbers = "[outputs]\ncheckpoints = [";
  for (int i = 0; i < 100; ++i) numbers += (i ? ", " : "") + std::string("2027.5");
  numbers += "]\n";
  CHECK_THROWS_WITH_AS(parse_scenario(minimal + numbers), doctest::Contains("distinct"),
                       ScenarioError);
  CHECK(parse_scenario("name = \"" + dots + "\"  # " + dots + "\n" + minimal).name == dots);
  const std::string multi = "name = '''\n" + dots + " = 1\n'''\n" + minimal;
  CHECK(parse_scenario(multi).name == dots + " = 1\n");
  const std::string basic = "name = \"\"\"\n\\\"\"\" " + dots + "\"\"\"\n" + minimal;
  CHECK(parse_scenario(basic).name == "\"\"\" " + dots);
  // Empty inline tables and arrays do not confuse the bracket count.
  std::string empties = minimal + "[outputs]\ncheckpoints = [";
  for (int i = 0; i < 100; ++i) empties += "[], ";
  empties += "]\n";
  CHECK_THROWS_WITH_AS(parse_scenario(empties), doctest::Contains("expected a number"),
                       ScenarioError);
  // Nesting deeper than 64 is refused with the line.
  CHECK_THROWS_WITH_AS(
      parse_scenario(minimal + "x = " + std::string(65, '[') + "1" + std::string(65, ']') + "\n"),
      doctest::Contains("nested more than 64"), ScenarioError);
}

// ---------------------------------------------------------------------------------------
// v3 levers (docs/model.md §12; MODEL.md §13.5-13.8, 13.10, 13.11).

TEST_CASE("v3 keys: parsed, written only when set, and round-tripped") {
  const std::string t =
      with_line("lead_time_years",
                "lead_time_years = 1.0\nrent_share = 0.7\nrent_per_gw_year = 14") +
      "arr_per_gw_growth = { uniform = [0.05, 0.15] }\n"  // [revenue] is still open
      "[opex]\nfixed_opex = 10\nfixed_opex_growth = 0.2\nfixed_opex_long_run_growth = 0.05\n"
      "fixed_opex_growth_reversion = 0.4\n"
      "[[contract]]\nname = \"azure\"\ntotal = 250\nstart = 2026\nyears = 6\ngw = 3.5\n"
      "profile = \"delivery\"\nramp_years = 2.5\n"
      "[[vendor_financing]]\nper_gw = 10\ncap = 100\nbasis = \"deployed\"\n"
      "[[warrant]]\nshares_m = 160\nstrike = 0.01\nprice0 = 200\n"
      "tranches = [{gw = 1, share = 1}]\nbasis = \"deployed\"\n"
      "[outputs]\nyearly = [\"fcf\", \"revenue\"]\n";
  const Scenario s = parse_scenario(t, "v3.toml");
  CHECK(s[Param::rent_share].value() == 0.7);
  CHECK(s[Param::rent_per_gw_year].value() == 14);
  CHECK(s[Param::arr_per_gw_growth] == Distribution::uniform(0.05, 0.15));
  CHECK(s.fixed_opex_long_run_growth == 0.05);
  CHECK(s.fixed_opex_growth_reversion == 0.4);
  REQUIRE(s.contracts.size() == 1);
  CHECK(s.contracts[0].profile == Contract::Profile::delivery);
  CHECK(s.contracts[0].ramp_years == 2.5);
  CHECK(s.vendors.at(0).basis == GwBasis::deployed);
  CHECK(s.financing.warrants.at(0).basis == GwBasis::deployed);
  CHECK(s.yearly == std::vector<YearlyKind>{YearlyKind::revenue, YearlyKind::fcf});
  const Scenario again = parse_scenario(to_toml(s), "again.toml");
  CHECK(again == s);
  CHECK(fingerprint(again) == fingerprint(s));
  // Absent, none of them is written: a v1/v2 scenario keeps its text and fingerprint.
  const std::string plain = to_toml(parse_scenario(minimal, "m.toml"));
  for (const char* k :
       {"rent_share", "rent_per_gw_year", "arr_per_gw_growth", "fixed_opex_long_run_growth",
        "fixed_opex_growth_reversion", "ramp_years", "basis", "yearly"}) {
    CAPTURE(k);
    CHECK(plain.find(k) == std::string::npos);
  }
}

TEST_CASE("v3 keys: invalid values name the key, the file and the line") {
  // minimal's [revenue] is open at line 17; line 18 is the first added.
  expect_error(with_line("lead_time_years", "lead_time_years = 1.0\nrent_share = 1.5"),
               "build.rent_share", 10, "[0, 1]");
  expect_error(with_line("lead_time_years", "lead_time_years = 1.0\nrent_per_gw_year = -1"),
               "build.rent_per_gw_year", 10, ">= 0");
  expect_error(minimal + "[opex]\nfixed_opex_growth_reversion = -0.5\n",
               "opex.fixed_opex_growth_reversion", 19, ">= 0");
  const std::string contract = "[[contract]]\ntotal = 100\nstart = 2026\nyears = 4\ngw = 1\n";
  expect_error(minimal + contract + "profile = \"delivery\"\nramp_years = 5\n",
               "contract[0].ramp_years", 24, "no longer than the term");
  expect_error(minimal + contract + "ramp_years = 2\n", "contract[0].ramp_years", 23,
               "profile = \"delivery\" only");
  expect_error(minimal + contract + "profile = \"linear\"\n", "contract[0].profile", 23,
               "\"flat\", \"ramp\" or \"delivery\"");
  expect_error(minimal + "[[vendor_financing]]\nper_gw = 1\ncap = 1\nbasis = \"leased\"\n",
               "vendor_financing[0].basis", 21, "\"owned\" or \"deployed\"");
  expect_error(minimal + "[outputs]\nyearly = [\"fcf\", \"cash\"]\n", "outputs.yearly[1]", 19,
               "\"revenue\", \"fcf\", \"capex\" or \"need\"");
  expect_error(minimal + "[outputs]\nyearly = [\"fcf\", \"fcf\"]\n", "outputs.yearly[1]", 19,
               "twice");
  // Thresholds may name a calendar-year output of the horizon (2026..2030), not others.
  CHECK_NOTHROW(parse_scenario(minimal + "[outputs]\nyearly = [\"fcf\"]\n"
                                         "thresholds = { fcf_2030 = [0] }\n"));
  expect_error(minimal + "[outputs]\nyearly = [\"fcf\"]\nthresholds = { fcf_2031 = [0] }\n",
               "outputs.thresholds.fcf_2031", 20, "unknown output");
}

TEST_CASE("a rate, growth or share written as a percent is refused with the fraction meant") {
  // docs/model.md §13.6: `rate = 9.5` would charge 950% a year.
  expect_error(minimal + "[[debt]]\nlimit = 10\nrate = 9.5\n", "debt[0].rate", 20,
               "looks like a percent; did you mean 0.095?");
  expect_error(with_line("growth0", "growth0 = 70"), "revenue.growth0", 16, "did you mean 0.7?");
  expect_error(with_line("growth0", "growth0 = { triangular = [50, 70, 90] }"), "revenue.growth0",
               16, "each number divided by 100");
  expect_error(minimal + "long_run_growth = 15\n", "revenue.long_run_growth", 18,
               "did you mean 0.15?");
  expect_error(minimal + "[opex]\nfixed_opex_growth = 20\n", "opex.fixed_opex_growth", 19,
               "did you mean 0.2?");
  expect_error(minimal + "[opex]\nrevenue_cost_share = 30\n", "opex.revenue_cost_share", 19,
               "did you mean 0.3?");
  expect_error(with_line("lead_time_years", "lead_time_years = 1.0\nrent_share = 70"),
               "build.rent_share", 10, "did you mean 0.7?");
  // Fractions, steep declines and shares just above 1 get the usual messages, not this one.
  CHECK_NOTHROW(parse_scenario(with_line("growth0", "growth0 = 1.1")));
  CHECK_NOTHROW(parse_scenario(with_line("growth0", "growth0 = -5.0")));
  CHECK_NOTHROW(parse_scenario(minimal + "[[debt]]\nlimit = 10\nrate = 0.095\n"));
  expect_error(minimal + "[opex]\nrevenue_cost_share = 1.5\n", "opex.revenue_cost_share", 19,
               "[0, 1]");
}

TEST_CASE("unit economics per capacity source at the start (capexsim check)") {
  // Net revenue per GW-year 10 (1 - 0.3) = 7; owned 1 + 50 x 0.6 / 5 = 7; leased 14;
  // a flat contract 120 / (2 x 4) = 15; a delivery one 120 / (2 (4 - 1)) = 20.
  std::string t = with_line("lead_time_years",
                            "lead_time_years = 1.0\nrent_share = 0.5\nrent_per_gw_year = 14") +
                  "[opex]\npower_ops_per_gw_year = 1\nrevenue_cost_share = 0.3\n"
                  "[[contract]]\nname = \"flat\"\ntotal = 120\nstart = 2026\nyears = 4\ngw = 2\n"
                  "[[contract]]\nname = \"dlv\"\ntotal = 120\nstart = 2026\nyears = 4\ngw = 2\n"
                  "profile = \"delivery\"\nramp_years = 2\n"
                  "[[contract]]\nname = \"paper\"\ntotal = 5\nstart = 2026\nyears = 1\n";
  t.replace(t.find("cost_per_gw = 40.0"), std::string("cost_per_gw = 40.0").size(),
            "cost_per_gw = 50.0");
  const auto rows = unit_economics(parse_scenario(t, "u.toml"));
  REQUIRE(rows.size() == 4);  // the capacity-free contract is not a source
  CHECK(rows[0].source == "owned");
  CHECK(rows[0].net_revenue_per_gw_year == doctest::Approx(7));
  CHECK(rows[0].cost_per_gw_year == doctest::Approx(7));
  CHECK(rows[1].source == "leased");
  CHECK(rows[1].cost_per_gw_year == doctest::Approx(14));
  CHECK(rows[2].source == "contract flat");
  CHECK(rows[2].cost_per_gw_year == doctest::Approx(15));
  CHECK(rows[3].source == "contract dlv");
  CHECK(rows[3].cost_per_gw_year == doctest::Approx(20));
  CHECK(rows[3].margin() == doctest::Approx(-13));
}

TEST_CASE("one table more than random.hpp's static ids hold is refused, naming the table") {
  // Facility f draws its rate at static id 128 + f; id 192 is the ARR multiple's, so a 65th
  // [[debt]] table would share its counter (issue 20). The layout's rows are disjoint by a
  // static_assert; the checker refuses the table past a row's end at its file and line.
  auto tables = [](const char* table, const char* body, std::size_t n) {
    std::string s = minimal;
    for (std::size_t k = 0; k < n; ++k) s += std::string("[[") + table + "]]\n" + body;
    return s;
  };
  const char* debt = "limit = 10\nrate = 0.05\n";
  CHECK_NOTHROW(parse_scenario(tables("debt", debt, rng::max_debt_facilities)));
  CHECK(rng::max_debt_facilities == 64);
  CHECK(rng::debt_rate_id(rng::max_debt_facilities) == rng::arr_multiple_id);
  expect_error(tables("debt", debt, rng::max_debt_facilities + 1), "debt[64]", 18 + 3 * 64,
               "expected at most 64 [[debt]] tables");
  const char* contract = "total = 1\nstart = 2026\nyears = 2\n";
  CHECK(rng::contract_term_id(rng::max_contracts, 0) == rng::vendor_term_id(0, 0));
  expect_error(tables("contract", contract, rng::max_contracts + 1), "contract[96]", 18 + 4 * 96,
               "expected at most 96 [[contract]] tables");
  static_assert(rng::static_ids_disjoint());
}

TEST_CASE("the key table's since column drives which inputs the writer leaves out") {
  // Inputs after first_v3_param are v3 and written only when set; the others were always
  // written, and the shipped scenarios' published fingerprints include them.
  for (const ParamInfo& info : param_table()) {
    CAPTURE(info.key);
    CHECK(info.since == (info.id >= first_v3_param ? 3 : 1));
  }
  for (const KeyInfo& k : scenario_keys()) {
    CAPTURE(k.key);
    CHECK((k.since >= 1 && k.since <= 3));
  }
  const Scenario s = parse_scenario(minimal);
  const std::string text = to_toml(s);
  CHECK(text.find("fixed_opex_growth = 0") != std::string::npos);  // v1: written at default
  CHECK(text.find("rent_share") == std::string::npos);             // v3: left out at default
  Scenario rented = s;
  rented[Param::rent_share] = Distribution::fixed(0.5);
  CHECK(to_toml(rented).find("rent_share = 0.5") != std::string::npos);
  CHECK(fingerprint(rented) != fingerprint(s));
}

TEST_CASE("the key table's vary column reaches the value --vary moves") {
  Scenario s = parse_scenario(minimal +
                              "[[debt]]\nname = \"bank\"\nlimit = 10\nrate = 0.05\n"
                              "[[contract]]\nname = \"dc\"\ntotal = 1\nstart = 2026\n"
                              "years = 2\n");
  const KeyInfo* rate = find_key("debt", "rate");
  REQUIRE(!!rate->vary);
  const VaryTarget t = rate->vary(s, 0);
  REQUIRE(t.dist == &s.financing.debt[0].rate);
  const VaryTarget limit = find_key("debt", "limit")->vary(s, 0);
  CHECK(limit.number == &s.financing.debt[0].limit_bn);
  CHECK(find_key("contract", "total")->vary(s, 0).dist == &s.contracts[0].total_bn);
  // A table the scenario lacks, or a plan that does not use the key: nothing to move.
  const VaryTarget multiple = find_key("valuation", "arr_multiple")->vary(s, 0);
  CHECK((multiple.dist == nullptr && multiple.number == nullptr && multiple.absent));
  CHECK(find_key("build", "coverage")->vary(s, 0).absent);
  // Words, dates and names cannot be varied; model inputs go through Param.
  CHECK(!find_key("contract", "profile")->vary);
  CHECK(!find_key("cost", "cost_per_gw")->vary);
}
