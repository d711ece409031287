import csv
import os
import pickle
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest

import capexsim


@pytest.fixture(scope="module")
def result(reference_path):
    return capexsim.simulate(reference_path, paths=4000, seed=11, threads=2)


def test_outputs_are_views_of_cpp_memory(result):
    out = result.outputs
    assert set(out) == set(result.output_names)
    gap = out["funding_gap"]
    assert gap.shape == (4000,)
    assert gap.dtype == np.float64
    assert not gap.flags["OWNDATA"]          # a view, not a copy
    assert not gap.flags["WRITEABLE"]
    assert gap.flags["C_CONTIGUOUS"]
    assert np.shares_memory(gap, result.per_path)


def test_summary_frame(result):
    s = result.summary()
    assert list(s.index) == result.output_names
    for col in ["mean", "sd", "stderr", "p1", "p5", "p50", "p95", "p99", "prob_positive", "cvar95", "nan_share"]:
        assert col in s.columns
    gap = result.outputs["funding_gap"]
    assert s.loc["funding_gap", "mean"] == pytest.approx(gap.mean(), rel=1e-12)
    assert s.loc["funding_gap", "p50"] == pytest.approx(np.quantile(gap, 0.5), rel=1e-12)
    assert s.loc["funding_gap", "unit"] == "$B"
    assert s.loc["runway", "unit"] == "years"
    assert 0 <= s.loc["breakeven", "nan_share"] <= 1


def test_bands_frame(result):
    b = result.bands("cash")
    assert b.index.name == "year"
    assert list(b.columns) == ["t", "mean", "p5", "p25", "p50", "p75", "p95"]
    assert len(b) == result.steps
    assert b.index[0] == 2026.0
    assert (b["p5"] <= b["p50"]).all() and (b["p50"] <= b["p95"]).all()
    with pytest.raises(ValueError, match="no series named"):
        result.bands("profit")


def test_bands_stay_inside_the_data_and_are_exact_where_every_path_agrees(result):
    # Step 0: capacity is initial_gw = 2.0 on every path, ARR arr0 = 20 (to the last bit or
    # two of its exp). The sketch's bucket midpoints read 2.0078 and 19.94; the bands are
    # clamped to each step's exact min and max (issue 24), so they read the values.
    cap, arr = result.bands("capacity"), result.bands("arr")
    for col in ["mean", "p5", "p25", "p50", "p75", "p95"]:
        assert cap[col].iloc[0] == 2.0, col
        assert abs(arr[col].iloc[0] - 20.0) < 1e-12, col
    for series in ("cash", "capacity", "arr", "demand"):
        b = result.bands(series)
        assert (b["p5"] <= b["p25"]).all() and (b["p75"] <= b["p95"]).all()


def test_paths_frame(result):
    p = result.paths
    assert p.index.name == "path"
    assert list(p.columns) == result.output_names
    assert len(p) == 4000


def test_pickle_round_trip_is_bit_identical(result):
    back = pickle.loads(pickle.dumps(result))
    assert back.per_path.tobytes() == result.per_path.tobytes()
    pd.testing.assert_frame_equal(back.summary(), result.summary())
    pd.testing.assert_frame_equal(back.bands("arr"), result.bands("arr"))


def test_threads_and_shards_give_the_same_bits(reference_path):
    one = capexsim.simulate(reference_path, paths=900, seed=5, threads=1)
    two = capexsim.simulate(reference_path, paths=900, seed=5, threads=2)
    assert one.per_path.tobytes() == two.per_path.tobytes()
    a = capexsim.simulate(reference_path, paths=400, seed=5, threads=2)
    b = capexsim.simulate(reference_path, paths=500, seed=5, threads=1, first_path=400)
    merged = capexsim.merge(pickle.loads(pickle.dumps(b)), a)
    assert merged.per_path.tobytes() == one.per_path.tobytes()
    pd.testing.assert_frame_equal(merged.summary(), one.summary())
    pd.testing.assert_frame_equal(merged.bands("cash"), one.bands("cash"))


def test_same_numbers_as_the_cli(tmp_path, reference_path):
    cli = os.environ.get("CAPEXSIM_CLI")
    if not cli:
        pytest.skip("CAPEXSIM_CLI not set (run through ctest)")
    out = tmp_path / "out"
    subprocess.run([cli, "run", reference_path, "--paths", "1500", "--seed", "99", "--out", str(out),
                    "--per-path", "--quiet"], check=True, capture_output=True)
    with open(out / "paths.csv") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    res = capexsim.simulate(reference_path, paths=1500, seed=99)
    k = len(res.output_names)
    cli_values = np.array([[float(x) for x in r[1:1 + k]] for r in rows])
    cli_inputs = np.array([[float(x) for x in r[1 + k:]] for r in rows])
    assert header[1:1 + k] == res.output_names
    # The drawn inputs follow the outputs as input.<section>.<key>.
    assert header[1 + k:] == ["input." + n for n in res._core.input_names]
    # Shortest round-trip text parses back to the same double: compare bits.
    assert cli_values.tobytes() == np.ascontiguousarray(res.per_path).tobytes()
    assert cli_inputs.tobytes() == np.ascontiguousarray(res._core.inputs).tobytes()
    # Result.path_table(): the same columns as paths.csv.
    assert header[1:] == list(res.path_table().columns)


def test_gil_is_released_during_a_run(reference_path):
    # With a huge switch interval a thread that holds the GIL keeps it until it blocks or
    # releases it; nothing forces a switch. The main thread can then only read "not
    # finished" if simulate() released the GIL while running (it would otherwise hold it
    # from the call until `finished` is set). No timing is asserted.
    import sys

    started = threading.Event()
    state = {"finished": False}

    def worker():
        started.set()
        capexsim.simulate(reference_path, paths=60000, seed=1, threads=1)
        state["finished"] = True

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    t = threading.Thread(target=worker)
    try:
        t.start()
        started.wait()
        seen_running = not state["finished"]
    finally:
        sys.setswitchinterval(old)
        t.join()
    assert seen_running
    assert state["finished"]


def test_keyboard_interrupt_stops_quickly(reference_path):
    import _thread

    def interrupt():
        time.sleep(0.5)
        _thread.interrupt_main()

    threading.Thread(target=interrupt).start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        capexsim.simulate(reference_path, paths=50_000_000, seed=1, keep_paths=False, bands=False)
    assert time.perf_counter() - start < 0.5 + 0.5


def test_progress_callback_and_errors_in_it(reference_path):
    seen = []
    capexsim.simulate(reference_path, paths=20000, seed=1, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1] == (20000, 20000)
    assert all(t == 20000 for _, t in seen)

    def boom(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        capexsim.simulate(reference_path, paths=2_000_000, seed=1, progress=boom, keep_paths=False)


def test_tqdm_progress_bar(reference_path, capsys):
    capexsim.simulate(reference_path, paths=3000, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err
    assert "3.00k/3.00k" in err


def test_bad_arguments(reference_path):
    with pytest.raises(ValueError, match="paths"):
        capexsim.simulate(reference_path, paths=0)
    with pytest.raises(ValueError, match="paths"):
        capexsim.simulate(reference_path, paths=1.5)
    with pytest.raises(ValueError, match="threads"):
        capexsim.simulate(reference_path, paths=10, threads=-1)
    with pytest.raises(ValueError, match="threads"):
        capexsim.simulate(reference_path, paths=10, threads=1.5)
    with pytest.raises(TypeError):
        capexsim.simulate(42, paths=10)
    r = capexsim.simulate(reference_path, paths=1e3)  # 1e3 is a whole number
    assert r.n_paths == 1000


def test_streaming_only(reference_path):
    r = capexsim.simulate(reference_path, paths=3000, keep_paths=False, bands=False)
    with pytest.raises(ValueError, match="per-path"):
        r.outputs
    with pytest.raises(ValueError, match="bands"):
        r.bands("cash")
    assert np.isfinite(r.summary().loc["funding_gap", "p50"])


def test_threads_zero_means_all_cores(reference_path):
    # 0 = all cores, as on the command line; the bits do not depend on the count.
    zero = capexsim.simulate(reference_path, paths=500, seed=3, threads=0)
    one = capexsim.simulate(reference_path, paths=500, seed=3, threads=1)
    assert zero.per_path.tobytes() == one.per_path.tobytes()


def test_summary_columns_are_numeric(result):
    s = result.summary()
    numeric = s.drop(columns="unit")
    assert all(dt == np.float64 for dt in numeric.dtypes)
    rounded = numeric.round(2)  # failed on object columns
    assert rounded.loc["funding_gap", "mean"] == round(s.loc["funding_gap", "mean"], 2)
    # Undefined statistics are NaN, not None.
    never = capexsim.simulate({"simulation": {"start": 2026, "horizon_years": 1},
                               "build": {"initial_gw": 1, "max_pace_gw_per_week": 0,
                                         "ramp_midpoint_years": 1, "ramp_width_years": 1,
                                         "lead_time_years": 1},
                               "cost": {"cost_per_gw": 40, "it_share": 0.5, "useful_life_years": 5},
                               "revenue": {"arr0": 10, "growth0": 0, "arr_per_gw": 10},
                               "finance": {"initial_cash": 100}}, paths=50, seed=1).summary()
    assert never.loc["runway", "nan_share"] == 1.0
    assert np.isnan(never.loc["runway", "mean"])
    assert never["mean"].dtype == np.float64


def test_compare_matches_numpy_on_the_paired_paths(reference_path):
    # The library's paired statistics (one implementation for the CLI and Python) against
    # NumPy's on the same per-path values.
    sc = capexsim.Scenario.from_toml(reference_path)
    cheaper = sc.copy()
    cheaper["cost"]["cost_per_gw"] = {"triangular": [30, 35, 45]}
    df = capexsim.compare(sc, cheaper, paths=1500, seed=8)
    a = capexsim.simulate(sc, paths=1500, seed=8).outputs
    b = capexsim.simulate(cheaper, paths=1500, seed=8).outputs
    for name in ("funding_gap", "runway", "terminal_cash"):
        ok = ~(np.isnan(a[name]) | np.isnan(b[name]))
        d = b[name][ok] - a[name][ok]
        assert df.loc[name, "diff"] == pytest.approx(d.mean(), rel=1e-12, abs=1e-12)
        assert df.loc[name, "stderr"] == pytest.approx(d.std(ddof=1) / np.sqrt(d.size), rel=1e-10)
        assert df.loc[name, "z"] == pytest.approx(df.loc[name, "diff"] / df.loc[name, "stderr"])


def test_compare_pairs_paths(reference_path, tmp_path):
    sc = capexsim.Scenario.from_toml(reference_path)
    cheaper = sc.copy()
    cheaper["cost"]["cost_per_gw"] = {"triangular": [30, 35, 45]}
    df = capexsim.compare(sc, cheaper, paths=2000, seed=4)
    assert df.loc["funding_gap", "significant"]
    assert df.loc["funding_gap", "diff"] < 0
    assert df.loc["arr_end", "diff"] == 0.0
    assert not df.loc["arr_end", "significant"]
    # Paired stderr is far below that of independent runs.
    a = capexsim.simulate(sc, paths=2000, seed=4).summary().loc["funding_gap", "stderr"]
    assert df.loc["funding_gap", "stderr"] < 0.3 * a


def test_counterparties_of_the_recalibrated_reference():
    """ai-lab-2026 carries arrears: one row per contract, then builders, opex, lenders and
    the total; P(paid in full) is 1 - P(unpaid > 0) and P(never in arrears) is
    1 - P(deferred > 0) of each class, recovered = mean deferred - mean unpaid."""
    src = os.environ["CAPEXSIM_SOURCE_DIR"]
    sc = capexsim.Scenario.from_toml(f"{src}/scenarios/ai-lab-2026-stress.toml")
    res = capexsim.simulate(sc, paths=2000, seed=3)
    table = res.counterparties()
    assert list(table.index) == ["azure", "oracle", "aws", "builders (capex)", "opex",
                                 "lenders (debt)", "landlords (rent)", "total"]
    unpaid = np.asarray(res.outputs["unpaid_oracle"])
    deferred = np.asarray(res.outputs["deferred_oracle"])
    assert table.loc["oracle", "p_paid_in_full"] == pytest.approx(np.mean(unpaid <= 0), abs=1e-12)
    assert table.loc["oracle", "p_never_in_arrears"] == pytest.approx(np.mean(deferred <= 0),
                                                                      abs=1e-12)
    assert table.loc["oracle", "unpaid_mean"] == pytest.approx(unpaid.mean(), rel=1e-9)
    assert table.loc["oracle", "recovered_mean"] == pytest.approx(
        deferred.mean() - unpaid.mean(), rel=1e-9, abs=1e-9)
    # The classes add up to the total, path by path, exactly.
    parts = sum(np.asarray(res.outputs[f"unpaid_{c}"]) for c in ("azure", "oracle", "aws"))
    parts = parts + res.outputs["unpaid_capex"] + res.outputs["unpaid_opex"] + \
        res.outputs["unpaid_debt"] + res.outputs["unpaid_rent"]
    np.testing.assert_array_equal(parts, res.outputs["unpaid_total"])
    plain = capexsim.simulate(capexsim.Scenario.from_toml(f"{src}/scenarios/ai-lab-2025.toml"),
                              paths=100, seed=3)
    assert plain.counterparties().empty


def test_waterfall_and_ledger_of_the_reference():
    """Result.waterfall(): gross need, coverage and residual by date; Result.ledger():
    sources and uses that balance to terminal cash on every path."""
    src = os.environ["CAPEXSIM_SOURCE_DIR"]
    sc = capexsim.Scenario.from_toml(f"{src}/scenarios/ai-lab-2026-stress.toml")
    res = capexsim.simulate(sc, paths=2000, seed=3)
    w = res.waterfall()
    assert list(w.index.get_level_values(0).unique()) == ["gross need", "coverage", "residual"]
    assert list(w.loc["gross need"].index) == ["2028", "2030", "horizon"]
    need, gap = np.asarray(res.outputs["funding_need"]), np.asarray(res.outputs["funding_gap"])
    assert w.loc[("gross need", "horizon"), "mean"] == pytest.approx(need.mean(), rel=1e-9)
    assert w.loc[("residual", "horizon"), "mean"] == pytest.approx(gap.mean(), rel=1e-9)
    assert w.loc[("coverage", "horizon"), "p50"] == pytest.approx(np.quantile(need - gap, 0.5))
    # The need by a date never exceeds the need over the horizon (a peak over fewer steps).
    assert np.all(res.outputs["funding_need_by_2028"] <= res.outputs["funding_need_by_2030"])
    assert np.all(res.outputs["funding_need_by_2030"] <= need)
    led = res.ledger()
    assert set(led.side) == {"source", "use"}
    assert "flow_arrears_added" in led.index and "flow_debt_drawn" in led.index
    sources = sum(np.asarray(res.outputs[n]) for n in led.index[led.side == "source"])
    uses = sum(np.asarray(res.outputs[n]) for n in led.index[led.side == "use"])
    w0 = sc.to_dict()["finance"]["initial_cash"]
    np.testing.assert_allclose(res.outputs["terminal_cash"], w0 + sources - uses, rtol=0,
                               atol=1e-9)
    assert led.attrs["terminal_cash"] == pytest.approx(
        w0 + led.attrs["sources"] - led.attrs["uses"], abs=1e-6)


def test_seed_beyond_64_bits_is_a_clear_error(reference_path):
    # Was pybind's TypeError with the whole resolved scenario pasted in.
    with pytest.raises(ValueError, match=r"seed must be below 2\*\*64, got 18446744073709551616"):
        capexsim.simulate(reference_path, paths=10, seed=2**64)
    capexsim.simulate(reference_path, paths=10, seed=2**64 - 1)  # the largest seed runs


def test_none_in_a_scenario_dict_names_its_key():
    # Was "Object of type NoneType is not TOML serializable", without the key.
    sc = capexsim.Scenario.from_toml(os.path.join(os.environ["CAPEXSIM_SOURCE_DIR"], "scenarios",
                                                  "ai-lab-2025.toml"))
    with pytest.raises(capexsim.ScenarioError, match=r"<dict>: revenue.arr0: expected a number"):
        sc["revenue"]["arr0"] = None
    d = sc.to_dict()
    d["contract"][1]["gw"] = None
    with pytest.raises(capexsim.ScenarioError) as e:
        capexsim.Scenario.from_dict(d)
    assert e.value.key == "contract[1].gw"


def test_a_corrupted_pickle_is_refused(reference_path):
    # Was loaded without error 97% of the time: the pickle now carries a SHA-256 of the
    # result's bytes. Flipping any one byte of them is detected.
    res = capexsim.simulate(reference_path, paths=50, seed=1)
    blob = bytearray(pickle.dumps(res))
    state = res.__getstate__()
    start = bytes(blob).find(state["bytes"][:64])
    assert start > 0
    for offset in (0, 100, len(state["bytes"]) // 2, len(state["bytes"]) - 1):
        bad = bytearray(blob)
        bad[start + offset] ^= 0x01
        with pytest.raises(ValueError, match="corrupted pickled capexsim Result"):
            pickle.loads(bytes(bad))
    again = pickle.loads(bytes(blob))
    assert np.array_equal(again.per_path, res.per_path, equal_nan=True)


def test_joint_run_pays_the_provider_what_the_lab_paid():
    """simulate(provider, counterparties={name: lab}): per path, the provider receives what
    the lab owed on that contract less what the lab still owes it at the horizon. What it
    owed is what a joint run with a lab that pays every bill passes on (same paths, same
    contract terms)."""
    src = os.environ["CAPEXSIM_SOURCE_DIR"]
    prov = capexsim.Scenario.from_toml(f"{src}/scenarios/oracle-side.toml")
    lab = capexsim.Scenario.from_toml(f"{src}/scenarios/ai-lab-2026-stress.toml")
    d = lab.to_dict()
    d["constraint"]["unpaid"] = False
    payer = capexsim.Scenario.from_dict(d)
    joint = capexsim.simulate(prov, paths=400, seed=2, counterparties={"oracle": lab})
    full = capexsim.simulate(prov, paths=400, seed=2, counterparties={"oracle": payer})
    alone = capexsim.simulate(lab, paths=400, seed=2)
    owed = np.asarray(full.outputs["received_oracle"])
    np.testing.assert_allclose(joint.outputs["received_oracle"],
                               owed - alone.outputs["unpaid_oracle"], rtol=1e-9, atol=1e-6)
    assert np.mean(np.asarray(alone.outputs["unpaid_oracle"]) > 0) > 0.5  # the lab's risk shows
    with pytest.raises(ValueError, match='no \\[\\[contract\\]\\] named "oracle"'):
        capexsim.simulate(prov, paths=10, counterparties={
            "oracle": capexsim.Scenario.from_toml(f"{src}/scenarios/neocloud.toml")})


def test_compare_with_counterparties():
    """compare(..., counterparties=, counterparties_a=, counterparties_b=) (issue 23): a joint
    side gives the numbers of simulate(..., counterparties=) with the same seed and paths."""
    src = os.environ["CAPEXSIM_SOURCE_DIR"]
    prov = capexsim.Scenario.from_toml(f"{src}/scenarios/oracle-side.toml")
    lab = capexsim.Scenario.from_toml(f"{src}/scenarios/ai-lab-2026-stress.toml")
    joint = capexsim.simulate(prov, paths=1500, seed=4, counterparties={"oracle": lab}).summary()
    alone = capexsim.simulate(prov, paths=1500, seed=4).summary()
    df = capexsim.compare(prov, prov, paths=1500, seed=4, counterparties_b={"oracle": lab})
    for name in ("received_oracle", "funding_gap", "terminal_cash"):
        assert df.loc[name, "mean_a"] == alone.loc[name, "mean"]
        assert df.loc[name, "mean_b"] == joint.loc[name, "mean"]
    assert df.loc["received_oracle", "diff"] != 0
    a = capexsim.compare(prov, prov, paths=1500, seed=4, counterparties_a={"oracle": lab})
    assert a.loc["received_oracle", "mean_a"] == joint.loc["received_oracle", "mean"]
    both = capexsim.compare(prov, prov, paths=1500, seed=4, counterparties={"oracle": lab})
    assert both.loc["received_oracle", "mean_a"] == both.loc["received_oracle", "mean_b"]
    assert both.loc["received_oracle", "diff"] == 0
    # Only the sides that have the revenue contract: ai-lab-2025 has none and runs alone.
    ref = capexsim.Scenario.from_toml(f"{src}/scenarios/ai-lab-2025.toml")
    mixed = capexsim.compare(prov, ref, paths=300, seed=4, counterparties={"oracle": lab})
    assert mixed.loc["funding_gap", "mean_b"] == \
        capexsim.simulate(ref, paths=300, seed=4).summary().loc["funding_gap", "mean"]
    neo = capexsim.Scenario.from_toml(f"{src}/scenarios/neocloud.toml")
    d = lab.to_dict()
    d["simulation"]["horizon_years"] = 8
    shorter = capexsim.Scenario.from_dict(d)
    for kw, words in (({"counterparties": {"azure": lab}}, 'neither A .* "azure"'),
                      ({"counterparties_a": {"azure": lab}},
                       'no \\[\\[revenue_contract\\]\\] named "azure"'),
                      ({"counterparties_b": {"oracle": neo}}, 'no \\[\\[contract\\]\\] named "oracle"'),
                      ({"counterparties": {"oracle": shorter}}, "one time grid"),
                      ({"counterparties": [("oracle", lab)]}, "must be a dict")):
        with pytest.raises(ValueError, match=words):
            capexsim.compare(prov, prov, paths=10, **kw)
    with pytest.raises(ValueError, match='no \\[\\[revenue_contract\\]\\] named "oracle"'):
        capexsim.compare(prov, ref, paths=10, counterparties_b={"oracle": lab})


def test_threads_thresholds_and_from_dict_refused_as_the_command_line(reference_path):
    # Issue 26: threads=4097 ran (the CLI caps --threads at 4096); threads=2**31 raised a
    # 2,000-character pybind11 signature error; a NaN threshold was accepted.
    from capexsim import Scenario
    for bad in (4097, 2**31, 2**64):
        with pytest.raises(ValueError, match="threads must be a whole number from 0") as e:
            capexsim.simulate(reference_path, paths=10, threads=bad)
        assert len(str(e.value)) < 200
    with pytest.raises(ValueError, match="from 0 .all cores. to 4096"):
        capexsim.sensitivity(reference_path, paths=100, threads=4097)
    for bad in (float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="not a finite number"):
            capexsim.simulate(reference_path, paths=10, thresholds={"funding_gap": [100, bad]})
    r = capexsim.simulate(reference_path, paths=10)
    with pytest.raises(ValueError, match="not a finite number"):
        r.exceedance({"funding_gap": float("nan")})
    with pytest.raises(TypeError, match="expects a dict"):
        Scenario.from_dict([1, 2])
