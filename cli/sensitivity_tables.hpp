#pragma once
// The tables of the sensitivity methods (rank, tornado, Sobol) as printed, as
// sensitivity.csv and as the fields of sensitivity.json (docs/sensitivity.md).

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <capexsim/sensitivity.hpp>

#include "args.hpp"

namespace capexsim::cli {

/// Decimals for a statistic of `output`: shares (prob_positive) get 4, else the unit's.
int stat_decimals(const std::string& output, const Statistic& stat);

/// sensitivity.json's record of a joint run's labs, from the analysis' scenario hash
/// "<provider>+NAME=<lab>..." (as summary.json's scenario_hash of `run --counterparty`):
/// the provider's hash, then each counterparty's name and scenario hash (and file when
/// known). Nothing without counterparties.
void counterparty_meta(const std::string& hash, nlohmann::ordered_json& meta,
                       const std::vector<args::Counterparty>& files = {});

/// A JSON number, null when not finite.
nlohmann::json num(double x);

/// The rank table as printed and as sensitivity.csv.
void render_rank(const RankTable& t, std::uint64_t seed, const std::string& scenario_name,
                 std::ostringstream& table, std::ostringstream& csv);
/// The Sobol table as printed and as sensitivity.csv.
void render_sobol(const SobolTable& t, std::uint64_t seed, const std::string& scenario_name,
                  std::ostringstream& table, std::ostringstream& csv);
/// The Sobol fields of sensitivity.json.
void sobol_meta(const SobolTable& t, nlohmann::ordered_json& meta);
/// The tornado table as printed and as sensitivity.csv; its fields of sensitivity.json.
void render_tornado(const TornadoTable& t, std::uint64_t paths, std::uint64_t seed, double low,
                    double high, const Statistic& stat, const std::string& scenario_name,
                    std::ostringstream& table, std::ostringstream& csv,
                    nlohmann::ordered_json& meta);

}  // namespace capexsim::cli
