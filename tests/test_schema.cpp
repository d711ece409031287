// The schema of outputs and series: every entry described, names resolvable, and the
// names the model produces are the ones the schema lists.
#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "capexsim/model.hpp"
#include "test_util.hpp"

using namespace capexsim;

TEST_CASE("every output and series has a unit, a description and a unique name") {
  std::set<std::string> names;
  for (std::size_t k = 0; k < base_output_count; ++k) {
    const QuantityInfo& q = output_info(static_cast<Output>(k));
    CAPTURE(q.name);
    CHECK(!q.unit.empty());
    CHECK(q.description.size() > 10);
    CHECK(names.insert(q.name).second);
    CHECK(describe_output(q.name).unit == q.unit);
  }
  names.clear();
  for (std::size_t k = 0; k < series_count; ++k) {
    const QuantityInfo& q = series_info(static_cast<Series>(k));
    CAPTURE(q.name);
    CHECK(!q.unit.empty());
    CHECK(names.insert(q.name).second);
    CHECK(series_by_name(q.name) == static_cast<Series>(k));
  }
}

TEST_CASE("kinds and adverse tails say what an analyst needs") {
  CHECK(describe_output("funding_gap").adverse == Tail::high);
  CHECK(describe_output("terminal_cash").adverse == Tail::low);  // the bad tail is the low one
  CHECK(describe_output("runway").kind == Kind::time);
  CHECK(describe_output("breakeven_sustained").kind == Kind::time);
  CHECK(std::string(kind_name(Kind::time)) == "time");
  CHECK(std::string(tail_name(Tail::low)) == "low");
}

TEST_CASE("checkpoint outputs are described; unknown names are errors that list the known") {
  const QuantityInfo q = describe_output("arr_at_2030");
  CHECK(q.unit == "$B/yr");
  CHECK(q.description.find("2030") != std::string::npos);
  CHECK_THROWS_AS(describe_output("no_such_output"), std::out_of_range);
  try {
    series_by_name("cashh");
    FAIL("expected an error");
  } catch (const std::out_of_range& e) {
    CHECK(std::string(e.what()).find("cost_per_gw") != std::string::npos);
  }
}

TEST_CASE("the model's output names are the schema's, then the checkpoints' outputs") {
  const PathModel m(test::scenario("start = 2026.0\nhorizon_years = 5",
                                   "initial_gw = 1\nmax_pace_gw_per_week = 0\n"
                                   "ramp_midpoint_years = 1\nramp_width_years = 1\n"
                                   "lead_time_years = 1",
                                   "cost_per_gw = 50\nit_share = 0.5\nuseful_life_years = 5",
                                   "arr0 = 10\ngrowth0 = 0.2\narr_per_gw = 10",
                                   "[outputs]\ncheckpoints = [2028.0]\n"));
  const auto names = m.output_names();
  // The base outputs, the gross need and its time, the ledger of every run (revenue,
  // capex, opex), then per checkpoint: arr_at, funding_need_by, funding_gap_by.
  REQUIRE(names.size() == base_output_count + 5 + 3);
  for (std::size_t k = 0; k < base_output_count; ++k)
    CHECK(names[k] == output_name(static_cast<Output>(k)));
  CHECK(names[base_output_count] == "funding_need");
  CHECK(names[names.size() - 3] == "arr_at_2028");
  CHECK(names.back() == "funding_gap_by_2028");
  for (const auto& n : names) CHECK_NOTHROW(describe_output(n));
}
