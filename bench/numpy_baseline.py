"""The reference model (docs/model.md) in NumPy, vectorised over paths: the way a competent
analyst would write it in a notebook. Same model, independent code and random numbers
(NumPy's Philox bit generator, its own normal method): used to time the engine against,
and to check that both compute the same distributions.

    python3 bench/numpy_baseline.py SCENARIO.toml --paths N [--seed S]
"""
import argparse
import math
import time
import tomllib

import numpy as np

OUTPUTS = ["funding_gap", "gap_time", "runway", "breakeven", "terminal_cash", "capex_total",
           "capacity_end", "arr_end", "breakeven_sustained"]

DEFAULTS = {
    "finance": {"initial_cash": 0.0},
    "build": {"pace_volatility": 0.0, "pace_reversion": 1.0, "disruption_rate": 0.0,
              "disruption_mean_years": 0.25, "disruption_multiplier": 1.0},
    "cost": {"cost_drift": 0.0, "cost_volatility": 0.0, "learning_rate": 0.0},
    "revenue": {"long_run_growth": 0.0, "growth_reversion": 1.0, "growth_volatility": 0.0,
                "arr_volatility": 0.0, "jump_rate": 0.0, "jump_mean": 0.0, "jump_sd": 0.0,
                "resale_price_per_gw_year": 0.0, "resale_utilization": 0.0},
    "opex": {"power_ops_per_gw_year": 0.0, "revenue_cost_share": 0.0, "fixed_opex": 0.0,
             "fixed_opex_growth": 0.0},
}


def draw(spec, rng, n):
    """Per-path static input: a number or a distribution table."""
    if not isinstance(spec, dict):
        return np.full(n, float(spec))
    if "uniform" in spec:
        lo, hi = spec["uniform"]
        return rng.uniform(lo, hi, n)
    if "triangular" in spec:
        lo, mode, hi = spec["triangular"]
        return np.full(n, float(lo)) if hi == lo else rng.triangular(lo, mode, hi, n)
    if "pert" in spec:
        lo, mode, hi = spec["pert"]
        a = 1 + 4 * (mode - lo) / (hi - lo)
        b = 1 + 4 * (hi - mode) / (hi - lo)
        return lo + (hi - lo) * rng.beta(a, b, n)
    if "normal" in spec:
        mean, sd = spec["normal"]
        lo, hi = spec.get("min", -np.inf), spec.get("max", np.inf)
        x = rng.normal(mean, sd, n)
        bad = (x < lo) | (x > hi)
        while bad.any():  # truncation by rejection
            x[bad] = rng.normal(mean, sd, bad.sum())
            bad = (x < lo) | (x > hi)
        return x
    if "lognormal" in spec:
        mean, sd = spec["lognormal"]
        s2 = math.log1p(sd * sd / (mean * mean))
        return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)
    if "choice" in spec:
        v = np.asarray(spec["choice"], float)
        w = np.asarray(spec.get("weights", [1.0] * len(v)), float)
        return rng.choice(v, n, p=w / w.sum())
    raise ValueError(f"unknown distribution {spec}")


def simulate(sc, paths, seed):
    rng = np.random.Generator(np.random.Philox(seed))
    sim = sc["simulation"]
    dt = {"month": 1 / 12, "week": 1 / 52, "quarter": 1 / 4}[sim.get("step", "month")]
    n = round(sim["horizon_years"] / dt)
    P = paths
    p = {}
    for section, defaults in DEFAULTS.items():
        merged = dict(defaults, **sc.get(section, {}))
        for key, spec in merged.items():
            p[key] = draw(spec, rng, P)
    cap = p.get("plan_cap_gw", np.full(P, np.inf))

    # correlation (canonical order pace, cost, arr, growth)
    names = ["pace", "cost", "arr", "growth"]
    corr = np.eye(4)
    if "correlation" in sc:
        order = [names.index(s) for s in sc["correlation"].get("shocks", names)]
        m = np.asarray(sc["correlation"]["matrix"], float)
        for i, a in enumerate(order):
            for j, b in enumerate(order):
                corr[a, b] = m[i, j]
    chol = np.linalg.cholesky(corr)

    # deterministic schedules
    start = sim["start"]
    t = np.arange(n) * dt
    pay = np.zeros(n)
    cgw = np.zeros(n)
    for c in sc.get("contract", []):
        first = max(0, math.ceil((c["start"] - start) / dt - 1e-9))
        end = min(n, math.ceil((c["start"] + c["years"] - start) / dt - 1e-9))
        i = np.arange(first, end)
        if c.get("profile", "flat") == "flat":
            pay[i] += c["total"] / c["years"] * dt
        else:
            tau = (i + 0.5) * dt - (c["start"] - start)
            pay[i] += 2 * c["total"] / c["years"] ** 2 * tau * dt
        cgw[i] += c.get("gw", 0.0)
    equity = np.zeros(n)
    for e in sc.get("equity", []):
        i = math.floor((e["at"] - start) / dt + 1e-9)
        if 0 <= i < n:
            equity[i] += e["amount"]
    vendors = sc.get("vendor_financing", [])

    theta, sx = p["pace_reversion"], p["pace_volatility"]
    var_x = sx ** 2 / (2 * theta)
    x = np.sqrt(var_x) * rng.standard_normal(P)
    decay_x = np.exp(-theta * dt)
    vol_x = sx * np.sqrt(-np.expm1(-2 * theta * dt) / (2 * theta))
    p_on = -np.expm1(-p["disruption_rate"] * dt)
    p_off = -np.expm1(-dt / p["disruption_mean_years"])
    sc_vol = p["cost_volatility"]
    drift_c = (p["cost_drift"] - sc_vol ** 2 / 2) * dt
    beta = -np.log2(1 - p["learning_rate"])
    lead = np.maximum(1, np.round(p["lead_time_years"] / dt)).astype(int)
    life = np.maximum(1, np.round(p["useful_life_years"] / dt)).astype(int)
    kappa = p["growth_reversion"]
    decay_g = np.exp(-kappa * dt)
    vol_g = p["growth_volatility"] * np.sqrt(-np.expm1(-2 * kappa * dt) / (2 * kappa))
    sd_ = p["arr_volatility"]
    lam = p["jump_rate"] * dt
    init = p["initial_gw"]
    cols = np.arange(P)

    regime = np.zeros(P, bool)
    y = np.zeros(P)
    g = p["growth0"].copy()
    log_d = np.log(p["arr0"])
    started = np.zeros(P)
    G = init.copy()
    W = p["initial_cash"].copy()
    # histories indexed by step, for lead-time and refresh look-backs
    sK_cum = np.zeros((n + 1, P))
    s_hist = np.zeros((n, P))
    v_hist = np.zeros((n, P))
    fcf_hist = np.zeros((n, P))
    paid = np.zeros((len(vendors), P))
    min_w = np.full(P, np.inf)
    min_step = np.full(P, -1)
    runway = np.full(P, -1)
    breakeven = np.full(P, -1)
    positive_since = np.full(P, -1)  # first step of the current run of positive trailing FCF
    checkpoints = sorted(sc.get("outputs", {}).get("checkpoints", []))
    checkpoint_steps = [max(0, math.ceil((year - start) / dt - 1e-9)) for year in checkpoints]
    at_checkpoint = {}
    capex_total = np.zeros(P)
    year_steps = max(1, round(1 / dt))
    R = np.zeros(P)
    # v3 (docs/model.md §13.1-13.2): shadow cash (no financing) and the ledger's flows
    V = p["initial_cash"].copy()
    min_v = np.full(P, np.inf)
    min_v_step = np.full(P, -1)
    need_by, gap_by = {}, {}
    flows = {k: np.zeros(P) for k in ("flow_revenue", "flow_vendor", "flow_scheduled_equity",
                                      "flow_capex", "flow_contracts", "flow_opex")}

    for i in range(n):
        for year, step in zip(checkpoints, checkpoint_steps):
            if step == i:  # steps 0..i-1 end by the checkpoint
                need_by[year] = np.maximum(0, -min_v)
                gap_by[year] = np.maximum(0, -min_w)
        z = chol @ rng.standard_normal((4, P))
        u = rng.random((2, P))
        regime = np.where(regime, u[0] >= p_off, u[0] < p_on)
        f = np.exp(x - var_x / 2)
        pace = p["max_pace_gw_per_week"] / (1 + np.exp(-(t[i] - p["ramp_midpoint_years"]) / p["ramp_width_years"]))
        s = pace * 52 * dt * f * np.where(regime, p["disruption_multiplier"], 1.0)
        s = np.minimum(s, np.maximum(0, cap - init - started))
        K = p["cost_per_gw"] * np.exp(y) * ((init + started) / init) ** (-beta)
        sK_cum[i + 1] = sK_cum[i] + s * K
        capex = (sK_cum[i + 1] - sK_cum[np.maximum(i + 1 - lead, 0), cols]) / lead
        online = np.where(i >= lead, s_hist[np.maximum(i - lead, 0), cols], 0.0)
        s_hist[i] = s
        G = G + online
        started = started + s
        r = np.where(i >= life, v_hist[np.maximum(i - life, 0), cols], 0.0) + np.where(i < life, init / life, 0.0)
        v_hist[i] = online + r
        refresh = p["it_share"] * K * r
        D = np.exp(log_d)
        C = G + cgw[i]
        R = np.minimum(D, p["arr_per_gw"] * C)
        resale = (C - R / p["arr_per_gw"]) * p["resale_price_per_gw_year"] * p["resale_utilization"] * dt
        opex = (p["power_ops_per_gw_year"] * G + p["revenue_cost_share"] * R
                + p["fixed_opex"] * np.exp(p["fixed_opex_growth"] * t[i])) * dt
        vendor = np.zeros(P)
        for k, v in enumerate(vendors):
            inflow = np.minimum(v["per_gw"] * online, v["cap"] - paid[k])
            paid[k] += inflow
            vendor += inflow
        fcf = R * dt + resale - capex - refresh - pay[i] - opex
        W = W + fcf + vendor + equity[i]
        V = V + fcf
        lower_v = V < min_v
        min_v = np.where(lower_v, V, min_v)
        min_v_step = np.where(lower_v, i, min_v_step)
        flows["flow_revenue"] += R * dt + resale
        flows["flow_vendor"] += vendor
        flows["flow_scheduled_equity"] += equity[i]
        flows["flow_capex"] += capex + refresh
        flows["flow_contracts"] += pay[i]
        flows["flow_opex"] += opex
        lower = W < min_w
        min_w = np.where(lower, W, min_w)
        min_step = np.where(lower, i, min_step)
        runway = np.where((runway < 0) & (W < 0), i, runway)
        fcf_hist[i] = fcf
        if i + 1 >= year_steps:
            trailing = fcf_hist[i + 1 - year_steps:i + 1].sum(axis=0)
            breakeven = np.where((breakeven < 0) & (trailing > 0), i, breakeven)
            positive_since = np.where(trailing > 0, np.where(positive_since < 0, i, positive_since), -1)
        for year, step in zip(checkpoints, checkpoint_steps):
            if step == i:
                at_checkpoint[year] = R.copy()
        capex_total += capex + refresh
        x = x * decay_x + vol_x * z[0]
        y = y + drift_c + sc_vol * np.sqrt(dt) * z[1]
        counts = rng.poisson(lam)
        jumps = p["jump_mean"] * counts + p["jump_sd"] * np.sqrt(counts) * rng.standard_normal(P)
        log_d = log_d + (g - sd_ ** 2 / 2) * dt + sd_ * np.sqrt(dt) * z[2] + jumps
        g = p["long_run_growth"] + (g - p["long_run_growth"]) * decay_g + vol_g * z[3]

    gap = np.maximum(0, -min_w)
    when = lambda k: np.where(k >= 0, (k + 1) * dt, np.nan)
    out = {"funding_gap": gap, "gap_time": np.where(gap > 0, (min_step + 1) * dt, np.nan),
           "runway": when(runway), "breakeven": when(breakeven), "terminal_cash": W,
           "capex_total": capex_total, "capacity_end": G, "arr_end": R,
           "breakeven_sustained": when(positive_since)}
    for year, values in at_checkpoint.items():
        out[f"arr_at_{year:g}"] = values
    need = np.maximum(0, -min_v)
    out["funding_need"] = need
    out["need_time"] = np.where(need > 0, (min_v_step + 1) * dt, np.nan)
    for year in checkpoints:
        out[f"funding_need_by_{year:g}"] = need_by[year]
        out[f"funding_gap_by_{year:g}"] = gap_by[year]
    for k, v in flows.items():
        if k == "flow_vendor" and not vendors:
            continue
        if k == "flow_scheduled_equity" and not sc.get("equity"):
            continue
        if k == "flow_contracts" and not sc.get("contract"):
            continue
        out[k] = v
    return out, n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("--paths", type=float, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(a.scenario, "rb") as f:
        sc = tomllib.load(f)
    t0 = time.perf_counter()
    out, n = simulate(sc, int(a.paths), a.seed)
    secs = time.perf_counter() - t0
    print(f"numpy: {int(a.paths)} paths x {n} steps in {secs:.2f} s = "
          f"{int(a.paths) * n / secs / 1e6:.2f} M path-steps/s")
    for k in OUTPUTS:
        v = out[k][~np.isnan(out[k])]
        print(f"  {k:14s} mean {v.mean():10.2f}  p50 {np.median(v):10.2f}")


if __name__ == "__main__":
    main()
