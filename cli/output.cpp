#include "output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include <capexsim/detail/format.hpp>
#include <capexsim/version.hpp>

namespace capexsim::cli {

namespace fs = std::filesystem;

std::string number(double x) {
  if (std::isnan(x)) return "nan";
  return detail::format_double(x);
}

std::string grouped(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

void prepare_out_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw UsageError("--out " + dir.string() + ": exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw UsageError("--out " + dir.string() + ": cannot create the folder: " + ec.message());
  // Probe that files can be created there, so a long run does not end in a failed write.
  const fs::path probe = dir / (".capexsim-probe-" + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    throw UsageError("--out " + dir.string() +
                     ": the folder is not writable: " + std::strerror(errno));
  ::close(fd);
  fs::remove(probe, ec);
}

void write_atomically(const fs::path& file, const std::string& content) {
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + file.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw UsageError("cannot write " + file.string() + ": " + std::strerror(errno));
  auto fail = [&](const char* what) {
    const std::string msg =
        std::string("cannot write ") + file.string() + " (" + what + "): " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw UsageError(msg);
  };
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("chmod");
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    throw UsageError("cannot write " + file.string() + ": " + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), file.c_str()) != 0) {
    const std::string msg = "cannot write " + file.string() + ": " + std::strerror(errno);
    ::unlink(tmpl.c_str());
    throw UsageError(msg);
  }
}

namespace {
nlohmann::json json_number(double x) {
  if (!std::isfinite(x)) return nullptr;  // JSON has no NaN
  return x;
}
}  // namespace

namespace {
/// The 95% half-widths and cvar05 of a metric, after its v1 fields.
void add_ci95_fields(nlohmann::ordered_json& m, const Summary& s) {
  m["cvar05"] = json_number(s.cvar05);
  m["mean_ci95"] = json_number(s.mean_ci95);
  for (std::size_t q = 0; q < summary_levels.size(); ++q)
    m[level_name(summary_levels[q]) + "_ci95"] = json_number(s.quantiles_ci95[q]);
  m["prob_positive_ci95"] = json_number(s.prob_positive_ci95);
  m["cvar95_ci95"] = json_number(s.cvar95_ci95);
  m["cvar05_ci95"] = json_number(s.cvar05_ci95);
  m["nan_share_ci95"] = json_number(s.nan_share_ci95);
}
}  // namespace

std::string summary_json(const Result& r, const RunInfo& info) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["scenario"] = r.scenario_name;
  j["scenario_hash"] = r.scenario_fingerprint;
  j["scenario_file"] = info.scenario_file;
  j["paths"] = r.paths;
  j["seed"] = r.seed;
  j["steps"] = r.steps;
  j["step_years"] = r.dt;
  j["start"] = r.start_year;
  j["threads"] = info.threads;
  j["version"] = version_string;
  j["wall_time_s"] = info.wall_seconds;
  j["sampling"] = info.sampling;
  if (!info.note.empty()) j["note"] = info.note;
  if (!info.target.empty())
    j["target"] = {{"target", info.target},
                   {"reached", info.target_reached},
                   {"estimate", json_number(info.target_estimate)},
                   {"ci95", json_number(info.target_half_width)},
                   {"wanted_ci95", json_number(info.target_wanted)}};
  ordered_json metrics = ordered_json::object();
  for (std::size_t k = 0; k < r.output_names.size(); ++k) {
    const Summary s = r.summary(k);
    const QuantityInfo q = describe_output(r.output_names[k]);
    ordered_json m;
    m["unit"] = q.unit;
    m["kind"] = kind_name(q.kind);
    m["adverse_tail"] = tail_name(q.adverse);
    m["mean"] = json_number(s.mean);
    m["sd"] = json_number(s.sd);
    m["stderr"] = json_number(s.std_error);
    for (std::size_t q = 0; q < summary_levels.size(); ++q)
      m[level_name(summary_levels[q])] = json_number(s.quantiles[q]);
    m["prob_positive"] = json_number(s.prob_positive);
    m["cvar95"] = json_number(s.cvar95);
    m["nan_share"] = json_number(s.nan_share);
    add_ci95_fields(m, s);
    for (const auto& [name, values] : info.thresholds) {
      if (name != r.output_names[k]) continue;
      ordered_json e = ordered_json::object();
      for (double v : values) {
        const Exceedance x = r.exceedance(k, v);
        e[number(v)] = {{"prob", json_number(x.prob)}, {"ci95", json_number(x.ci95)}};
      }
      m["exceedance"] = e;
    }
    metrics[r.output_names[k]] = m;
  }
  j["metrics"] = metrics;
  // max_digits10 so that every double round-trips
  return j.dump(2) + "\n";
}

std::string bands_csv(const Result& r) {
  std::string out = "t,year,series,mean,p5,p25,p50,p75,p95\n";
  for (const std::string& name : r.series_names) {
    const auto rows = r.band(name);
    for (const BandRow& row : rows) {
      out += number(row.t) + "," + number(row.year) + "," + name + "," + number(row.mean);
      for (double q : row.quantiles) out += "," + number(q);
      out += "\n";
    }
  }
  return out;
}

std::string paths_csv(const Result& r) {
  if (!r.has_per_path()) throw std::logic_error("paths_csv: the run kept no per-path outputs");
  std::string out = "path";
  for (const auto& n : r.output_names) out += "," + n;
  out += "\n";
  for (std::uint64_t p = 0; p < r.paths; ++p) {
    out += std::to_string(r.first_path + p);
    for (std::size_t k = 0; k < r.output_names.size(); ++k)
      out += "," + number(r.per_path(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)));
    out += "\n";
  }
  return out;
}

std::string output_unit(const std::string& name) {
  return describe_output(name).unit;
}

bool is_event_time(const std::string& name) {
  return describe_output(name).kind == Kind::time;
}

int decimals_for(const std::string& unit) {
  if (unit == "share") return 3;
  return unit == "years" || unit == "GW" ? 2 : 1;
}

namespace {
std::string fixed(double x, int decimals) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}
}  // namespace

std::string summary_table(const Result& r) {
  std::ostringstream o;
  char line[512];
  int width = 16;  // the name column fits the longest output name
  for (const auto& name : r.output_names) width = std::max(width, static_cast<int>(name.size()));
  // "±" is two bytes in UTF-8: a field one wider keeps the columns aligned.
  std::snprintf(line, sizeof line, "%-*s %-6s %10s %9s %10s %10s %10s %9s %9s\n", width, "output",
                "unit", "mean", "±95%", "p5", "p50", "p95", "P(>0)", "never");
  o << line;
  for (std::size_t k = 0; k < r.output_names.size(); ++k) {
    const std::string& name = r.output_names[k];
    const Summary s = r.summary(k);
    const std::string unit = output_unit(name);
    const int d = decimals_for(unit);
    const std::string p_pos = is_event_time(name) ? "" : fixed(100 * s.prob_positive, 1) + "%";
    const std::string never = is_event_time(name) ? fixed(100 * s.nan_share, 1) + "%" : "";
    std::snprintf(line, sizeof line, "%-*s %-6s %10s %8s %10s %10s %10s %9s %9s\n", width,
                  name.c_str(), unit.c_str(), fixed(s.mean, d).c_str(),
                  fixed(s.mean_ci95, d + 1).c_str(), fixed(s.quantile(0.05), d).c_str(),
                  fixed(s.quantile(0.5), d).c_str(), fixed(s.quantile(0.95), d).c_str(),
                  p_pos.c_str(), never.c_str());
    o << line;
  }
  o << counterparty_table(r);
  return o.str();
}

std::string counterparty_table(const Result& r) {
  // One row per unpaid_<contract> output (docs/model.md §10.5), then the builders.
  std::vector<std::pair<std::string, std::size_t>> rows;
  for (std::size_t k = 0; k < r.output_names.size(); ++k) {
    const std::string& name = r.output_names[k];
    if (name.rfind("unpaid_", 0) == 0 && name != "unpaid_total" && name != "unpaid_capex")
      rows.emplace_back(name.substr(7), k);
  }
  if (rows.empty()) return "";
  for (std::size_t k = 0; k < r.output_names.size(); ++k)
    if (r.output_names[k] == "unpaid_capex") rows.emplace_back("builders (capex)", k);
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "\n%-20s %16s %16s %16s\n", "counterparty", "P(paid in full)",
                "unpaid mean $B", "unpaid p95 $B");
  o << line;
  for (const auto& [who, k] : rows) {
    const Summary s = r.summary(k);
    std::snprintf(line, sizeof line, "%-20s %15s%% %16s %16s\n", who.c_str(),
                  fixed(100 * (1 - s.prob_positive), 1).c_str(), fixed(s.mean, 1).c_str(),
                  fixed(s.quantile(0.95), 1).c_str());
    o << line;
  }
  return o.str();
}

std::string thresholds_table(const Result& r, const Thresholds& thresholds) {
  std::ostringstream o;
  for (const auto& [name, values] : thresholds) {
    const std::size_t k = r.output_index(name);
    const std::string unit = output_unit(name);
    for (double v : values) {
      const Exceedance e = r.exceedance(k, v);
      o << "P(" << name << " > " << number(v) << (unit == std::string("years") ? " years" : "")
        << ") = " << fixed(100 * e.prob, 2) << "% ± " << fixed(100 * e.ci95, 2) << "%\n";
    }
  }
  return o.str();
}

}  // namespace capexsim::cli
