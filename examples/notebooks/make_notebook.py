"""Writes funding_gap.ipynb (outputs stripped). Edit here, then run: python3 make_notebook.py"""
import os

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("""# How much outside money does an AI lab's buildout need?

This notebook tells the story of capexsim's reference lab, `scenarios/ai-lab-2026.toml`
(docs/scenarios.md): a lab that owns up to 21.5 GW, rents 8.5 GW more through cloud
contracts that renew, builds for demand, and is financed by debt, equity rounds priced off
its revenue, NVIDIA's equity and AMD's warrants. Every number in the file says whether it
comes from public reporting or is an assumption.

The story follows the funding waterfall: how much money the plan needs before any
financing (*gross need*), where it comes from (*the ledger*), what is still missing
(*residual*), who is left unpaid when the sources fall short (*counterparties*), and which
inputs drive it. The first scenario of the project, `ai-lab-2025.toml`, follows as an
appendix.

Money is in \\$B, capacity in GW, time in years. Run it from the repository root with the
package on the path (`PYTHONPATH=build/python`, see the README)."""),
    code("""import os
import capexsim

# The notebook may be started from examples/notebooks or from the repository root.
root = next(p for p in [".", "..", "../.."] if os.path.exists(os.path.join(p, "scenarios")))
lab_path = os.path.join(root, "scenarios", "ai-lab-2026.toml")
# The variant that leaves unpaid bills as arrears (its counterparties' view); before the
# stress file existed, the reference itself ran with unpaid = true.
stress_path = os.path.join(root, "scenarios", "ai-lab-2026-stress.toml")
if not os.path.exists(stress_path):
    stress_path = lab_path
lab = capexsim.Scenario.from_toml(lab_path)
financed = capexsim.simulate(lab, paths=100_000, seed=1)
names = financed.output_names
financed"""),
    md("""## The waterfall: gross need, then the residual

Outputs are looked up by name, so this cell shows whatever part of the waterfall the
model you built reports: `funding_need` (the outside money the plan needs before any
financing) and `funding_need_by_<year>` at each checkpoint, then `funding_gap` (what is
still needed beyond the modelled sources) and `runway`. `Result.waterfall()` gives the same
table where the package has it. The headline below is `funding_need` where the model
reports it; a model without the waterfall leads with `unpaid_total`, the bills the sources
could not pay. With `[constraint] unpaid = true` the residual `funding_gap` is \\$0 by
construction (shortfalls become arrears instead)."""),
    code("""waterfall = ([n for n in ("funding_need", "need_time") if n in names]
             + [n for n in names if n.startswith("funding_need_by_")]
             + [n for n in ("funding_gap", "gap_time", "runway") if n in names]
             + [n for n in names if n.startswith("funding_gap_by_")])
headline = "funding_need" if "funding_need" in names else "unpaid_total"
summary26 = financed.summary()
print("headline output:", headline)
(financed.waterfall() if hasattr(financed, "waterfall")
 else summary26.loc[waterfall, ["unit", "mean", "p5", "p50", "p95", "prob_positive", "nan_share"]].round(2))"""),
    code("""ax = financed.plot_hist(headline)"""),
    md("""## Sources and uses

The ledger totals every flow of a path over the horizon (`flow_<name>` outputs: uses such
as capex, contracts, opex and interest; sources such as revenue, vendor money, debt and
equity rounds); they balance to the cash at the horizon. Where the package has no ledger
yet, the financing outputs it does have tell the same story in part."""),
    code("""flows = [n for n in names if n.startswith("flow_")]
financing = [n for n in ("capex_total", "debt_peak", "interest_total", "equity_raised", "warrant_proceeds",
                         "dilution", "rounds") if n in names]
(financed.ledger() if hasattr(financed, "ledger")
 else summary26.loc[flows or financing, ["unit", "mean", "p5", "p50", "p95"]].round(2))"""),
    code("""for series in ["cash", "capacity", "arr"]:
    financed.plot_fan(series, events=True)"""),
    code("""ax = financed.plot_fan("debt")"""),
    code("""ax = financed.plot_fan("ownership")"""),
    md("""## Counterparties

When the sources cannot fund a step, `[constraint] unpaid = true` leaves the shortfall
unpaid, pro rata over the step's obligations. `counterparties()` says, for each contract
and for the builders, how likely it is to be paid in full and how much it is owed when
not. (After the stress variant exists, this runs it; the reference itself then finances
or reports its residual instead.)"""),
    code("""stress = capexsim.simulate(stress_path, paths=100_000, seed=1)
table = stress.counterparties()
table.round(3)"""),
    code("""import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.barh(table.index[::-1], table["unpaid_mean"][::-1], color="#c0504d", label="mean")
ax.barh(table.index[::-1], table["unpaid_p95"][::-1], color="none", edgecolor="#7f7f7f",
        label="95th percentile")
ax.set_xlabel("left unpaid over the horizon, $B")
ax.set_title(f"{stress.scenario_name}: left unpaid, by counterparty", loc="left")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, frameon=False)
fig.tight_layout()"""),
    md("""## What drives it

A tornado of the headline: each drawn input pinned at its 10th and 90th percentile, and,
with `assumptions=0.2`, every fixed number the file tags `[assumption]` moved by ±20% of its
value, all with common random numbers. Fixed assumptions (how fast fixed opex grows, when
equity rounds are triggered, how long a contract runs) can move the answer as much as the
drawn inputs do; a tornado of drawn inputs alone never shows them."""),
    code("""drivers = capexsim.sensitivity(lab, "tornado", output=headline, paths=2_000, seed=1, assumptions=0.2)
ax = capexsim.plot_tornado(drivers, top=15)
drivers.head(15).round(2)"""),
    md("""# Appendix: the v1 reference, `ai-lab-2025.toml`

The first reference scenario: an AI lab commits to ~30 GW of compute at \\$40–60B per GW,
ramping toward 1 GW per week, while revenue grows from \\$20B of annual recurring revenue,
with no financing at all, so the funding gap is the whole outside money needed. It is kept
here for its walk through the package's tools."""),
    code("""scenario = capexsim.Scenario.from_toml(os.path.join(root, "scenarios", "ai-lab-2025.toml"))
scenario"""),
    md("""## A million paths

`simulate` is a pure function of (scenario, seed, paths): rerun it and you get the same
numbers bit for bit, on any number of threads. `progress=True` shows a progress bar: a
widget where `ipywidgets` 7+ is installed, nothing otherwise (so no text frames end up in the
saved notebook)."""),
    code("""result = capexsim.simulate(scenario, paths=1_000_000, seed=1, progress=True)
result"""),
    md("""## The summary table

One row per output. `mean ± stderr` is the Monte Carlo estimate and its error; `p5`–`p95`
the spread across paths. `prob_positive` is the share of paths where the output is above
zero: for `funding_gap`, the probability of needing outside money at all. For event times
(`runway`, `breakeven`, `gap_time`), `nan_share` is the share of paths where the event
never happens within the horizon, and the statistics are over the paths where it does.

`cvar95` is the mean of the *highest* 5% of values. Whether that tail is bad news depends
on the output: for `funding_gap` and `capex_total` (and the late `breakeven` dates) it is
the worst 5% — for the funding gap, the expected shortfall. For `terminal_cash`, `runway`
and the revenue outputs (`arr_end`, `arr_at_…`) high is good: there `cvar95` is the
*best* 5%, and the adverse side is read from `p5` instead. The next table picks, for each
output, the tail that is bad news."""),
    code("""summary = result.summary()
summary[["unit", "mean", "stderr", "p5", "p50", "p95", "prob_positive", "cvar95", "nan_share"]].round(2)"""),
    code("""from capexsim.units import quantity

# The adverse tail of each output: high values (read p95 and cvar95) or low ones (read p5).
adverse = {name: quantity(name).adverse for name in summary.index}
tails = summary[["unit"]].assign(
    adverse=[adverse[n] or "-" for n in summary.index],
    adverse_p=[summary.loc[n, "p95"] if adverse[n] == "high" else summary.loc[n, "p5"] if adverse[n] == "low" else float("nan")
               for n in summary.index],
    mean_of_worst_5pct=[summary.loc[n, "cvar95"] if adverse[n] == "high" else float("nan") for n in summary.index])
tails.round(2)"""),
    md("""## The funding gap

The peak outside money needed: the deepest point of the cash curve. Each bar is the share
of paths whose gap falls in that range; the red curve (right axis) is the cumulative share
of paths, so you can read off "in 90% of paths the gap is below …". The mean and the
5th/95th percentiles are marked."""),
    code("""ax = result.plot_hist("funding_gap")"""),
    md("""## Fan charts over time

Shaded bands hold the middle 50% and 90% of paths at each month; the solid line is the
median, the dashed line the mean. Cash falling below zero is outside money needed;
capacity shows the buildout (owned GW); ARR is revenue the capacity can actually serve.
`events=True` marks the scenario's dates: its checkpoints and the end of each cloud
contract (the ARR bands drop where contracted capacity ends)."""),
    code("""for series in ["cash", "capacity", "arr"]:
    result.plot_fan(series, events=True)"""),
    md("""## Against an alternative: cheap compute

`compare` runs both scenarios with common random numbers: path *p* sees the same random
numbers in both runs for every input that did not change. The paired difference `diff`
therefore has a small standard error, and `significant` marks changes larger than three
of them. Here costs fall 20–30% per doubling: the funding gap shrinks, while revenue
outputs do not move at all (they do not depend on costs)."""),
    code("""cheap = capexsim.Scenario.from_toml(os.path.join(root, "scenarios", "cheap-compute.toml"))
table = capexsim.compare(scenario, cheap, paths=200_000, seed=1)
table.round(3)"""),
    md("""The two distributions side by side (cumulative share of paths at or below each gap),
then the paired view: for each path, B's gap minus A's, which common random numbers make
meaningful path by path. Both runs use the same 200,000 paths and seed."""),
    code("""reference = capexsim.simulate(scenario, paths=200_000, seed=1)
cheap_result = capexsim.simulate(cheap, paths=200_000, seed=1)
labels = ("reference", "cheap compute")
ax = capexsim.plot_compare(reference, cheap_result, "funding_gap", labels=labels)"""),
    code("""ax = capexsim.plot_diff(reference, cheap_result, "funding_gap", labels=labels)"""),
    md("""## What drives the gap

Which uncertain inputs move the funding gap, and how much of its spread is theirs rather
than the random paths of build pace, costs, demand and growth? Three views, each a set of
ordinary runs with the same seed (so as reproducible as `simulate`):

* **rank measures** of the run we already have: each drawn input's rank correlation with
  the gap (`spearman`), its standardised rank-regression coefficient (`srrc`), and its share
  of the gap's rank variance (`contribution`, summing to R²);
* a **tornado**: each input pinned at its 10th and 90th percentile, every other random
  number unchanged (common random numbers), so the swing is the input's effect alone;
* **Sobol indices**: the share of the gap's variance each input, and each group of random
  paths, explains alone (S) and with its interactions (ST)."""),
    code("""rank = result.rank("funding_gap")
print(f"R² of the rank regression: {rank.attrs['r2']:.2f}")
rank.round(3)"""),
    md("""The learning rate, the cost per GW, the initial revenue growth and the timing of the
build ramp matter about equally, each with a few percent of the rank variance; useful life,
the build pace and ARR per GW matter little. R² is only about a quarter: most of the spread of
the gap does not come from these seven inputs at all."""),
    code("""tornado = capexsim.sensitivity(scenario, "tornado", paths=20_000, seed=1)
ax = capexsim.plot_tornado(tornado)
tornado.round(2)"""),
    md("""Read the tornado as "what if we knew this input": pinning the learning rate at its 90th
percentile (costs fall 9% per doubling) instead of its 10th lowers the mean gap by over
\\$400B, and each of the top four inputs is worth \\$300–450B between its ends. The labels
are the pinned input values; the colours say which end (P10 or P90) each bar is."""),
    code("""sobol = capexsim.sensitivity(scenario, "sobol", paths=16_384, seed=1)
ax = capexsim.plot_sobol(sobol)
sobol.round(3)"""),
    md("""The hatched rows are not inputs but the model's random paths: the cost, demand (ARR
shocks) and growth processes between them explain most of the variance alone (S), the seven
drawn inputs together about a quarter. So narrowing an input's range would narrow the gap's spread only
a little; the path-to-path risk of costs and demand is what a financing plan must absorb. The
gap between S and ST (the ramp timing, the processes) is interaction: their effect depends on
the others.

The same analysis year by year, here of the cash balance at yearly checkpoints: early on
the ramp timing decides almost everything, later the cost and demand paths take over."""),
    code("""yearly = scenario.copy()
yearly["outputs"]["checkpoints"] = [2027.0, 2028.0, 2029.0, 2030.0, 2031.0, 2032.0, 2033.0, 2034.0, 2035.0]
over_time = capexsim.sensitivity(yearly, "sobol", paths=4_096, seed=1, over_time="cash")
ax = capexsim.plot_sobol_over_time(over_time)"""),
    md("""Finally, goal seek: which initial revenue growth makes the median ARR in 2030 exactly
\\$100B? `calibrate` reruns the scenario with common random numbers, so the statistic is a
smooth function of the input and a root finder needs only a handful of runs. The ± is the
Monte Carlo error of the answer; `c.scenario` is the calibrated scenario, ready to simulate
(or written to a file with `write=`)."""),
    code("""c = capexsim.calibrate(scenario, "revenue.growth0=0.3:1.5", "arr_at_2030.p50=100", paths=20_000)
base_p50 = summary.loc["arr_at_2030", "p50"]
print(f"median 2030 ARR with the scenario's growth0 (mean 0.8): ${base_p50:.0f}B")
c"""),
    md("""The reference scenario's initial growth puts the median 2030 ARR above \\$100B; an
initial growth of about 0.71 (in log units per year, against 0.8) brings it down to
exactly \\$100B. `c.evaluations` lists every run the search made."""),
    md("""## Your own what-if

Change any input by item access; an invalid value raises `ScenarioError` naming the key
and leaves the scenario unchanged."""),
    code("""what_if = scenario.copy()
what_if["revenue"]["arr_per_gw"] = {"triangular": [10.0, 13.0, 16.0]}
capexsim.compare(scenario, what_if, paths=100_000)[["mean_a", "mean_b", "diff", "stderr", "significant"]].round(2)"""),
    code("""try:
    what_if["build"]["lead_time_years"] = -1
except capexsim.ScenarioError as e:
    print("rejected:", e)"""),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, os.path.join(os.path.dirname(os.path.abspath(__file__)), "funding_gap.ipynb"))
