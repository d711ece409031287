"""End-to-end tests of `capexsim sensitivity` and `capexsim calibrate` (docs/sensitivity.md):
files, reproducibility, consistency with `run`, and exit code 2 for each bad input.

Run by ctest as: python3 test_cli_sensitivity.py CAPEXSIM_BINARY SOURCE_DIR
Standard library only (unittest).
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

BIN = None
SRC = None


def run(*args, timeout=300):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


def reference():
    return os.path.join(SRC, "scenarios", "ai-lab-2025.toml")


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


class Sensitivity(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def sens(self, *args, out="out"):
        path = os.path.join(self.dir, out)
        p = run("sensitivity", reference(), "--quiet", "--out", path, *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(path, "sensitivity.json")) as f:
            meta = json.load(f)
        return p.stdout, read_csv(os.path.join(path, "sensitivity.csv")), meta

    def assert_invalid(self, proc, *fragments):
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertTrue(proc.stderr.startswith("capexsim: error: "), proc.stderr)
        for f in fragments:
            self.assertIn(f, proc.stderr)
        self.assertNotIn("terminate called", proc.stderr)

    def test_tornado_keeps_its_columns_aligned_beyond_1e9(self):
        # fixed opex growing at 0.9 a year for 30 years: a funding gap of ~5.7e12 $B. The
        # statistics go through the shared table formatter (%.3e from 1e9), so each column
        # ends where its header does; sensitivity.csv keeps the full round-trip value.
        with open(reference()) as f:
            text = f.read()
        for old, new in (("horizon_years = 10 ", "horizon_years = 30 "),
                         ("fixed_opex_growth = 0.20 ", "fixed_opex_growth = 0.9 ")):
            self.assertIn(old, text)
            text = text.replace(old, new, 1)
        scenario = os.path.join(self.dir, "huge.toml")
        with open(scenario, "w") as f:
            f.write(text)
        path = os.path.join(self.dir, "out")
        p = run("sensitivity", scenario, "--method", "tornado", "--paths", "100", "--quiet",
                "--out", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        head = next(l for l in lines if l.startswith("input "))
        start = lines.index(head)
        rows = []
        for l in lines[start + 1:]:
            if not l.strip():
                break
            rows.append(l)
        self.assertGreater(len(rows), 3)
        self.assertTrue(any("e+12" in l for l in rows), rows)
        for column in ("stat at low", "stat at high", "swing"):
            end = head.index(column) + len(column)
            for row in rows:
                self.assertNotEqual(row[end - 1], " ", (column, row))
                self.assertTrue(len(row) == end or row[end] == " ", (column, row))
        csv_rows = read_csv(os.path.join(path, "sensitivity.csv"))
        self.assertGreater(max(abs(float(r["stat_low"])) for r in csv_rows), 1e9)

    def test_rank_matches_paths_csv(self):
        # Spearman's rho recomputed here from paths.csv (input.* columns) of the same run.
        _, rows, meta = self.sens("--method", "rank", "--paths", "3000")
        out = os.path.join(self.dir, "run")
        p = run("run", reference(), "--paths", "3000", "--per-path", "--quiet", "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        paths = read_csv(os.path.join(out, "paths.csv"))
        inputs = [c for c in paths[0] if c.startswith("input.")]
        self.assertIn("input.cost.cost_per_gw", inputs)
        self.assertEqual(sorted("input." + r["factor"] for r in rows), sorted(inputs))

        def ranks(xs):
            order = sorted(range(len(xs)), key=lambda i: xs[i])
            r = [0.0] * len(xs)
            i = 0
            while i < len(xs):
                j = i
                while j + 1 < len(xs) and xs[order[j + 1]] == xs[order[i]]:
                    j += 1
                for k in range(i, j + 1):
                    r[order[k]] = (i + j) / 2 + 1
                i = j + 1
            return r

        def pearson(a, b):
            ma, mb = sum(a) / len(a), sum(b) / len(b)
            sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
            return sab / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))

        gap = ranks([float(r["funding_gap"]) for r in paths])
        for row in rows:
            x = ranks([float(r["input." + row["factor"]]) for r in paths])
            self.assertAlmostEqual(float(row["spearman"]), pearson(x, gap), places=9, msg=row["factor"])
        self.assertAlmostEqual(sum(float(r["contribution"]) for r in rows), meta["r2"], places=9)
        self.assertEqual(meta["paths"], 3000)

    def test_tornado_base_is_the_run_mean_and_reproducible(self):
        text, rows, meta = self.sens("--method", "tornado", "--paths", "2000",
                                     "--vary", "build.plan_cap_gw=20:40")
        _, again, _ = self.sens("--method", "tornado", "--paths", "2000",
                                "--vary", "build.plan_cap_gw=20:40", out="out2")
        self.assertEqual(rows, again)
        swings = [float(r["swing"]) for r in rows]
        self.assertEqual(swings, sorted(swings, reverse=True))
        self.assertIn("build.plan_cap_gw", [r["factor"] for r in rows])
        out = os.path.join(self.dir, "run")
        p = run("run", reference(), "--paths", "2000", "--quiet", "--out", out)
        with open(os.path.join(out, "summary.json")) as f:
            mean = json.load(f)["metrics"]["funding_gap"]["mean"]
        self.assertEqual(meta["base"], mean)
        for r in rows:
            self.assertEqual(float(r["stat_base"]), mean)

    def test_sobol_prints_every_factor_with_intervals(self):
        text, rows, meta = self.sens("--method", "sobol", "--paths", "2048", "--bootstrap", "200")
        factors = [r["factor"] for r in rows]
        for g in ("pace", "cost", "demand", "growth"):
            self.assertIn(g, factors)
            self.assertIn(g, text)
        self.assertIn("cost.cost_per_gw", factors)
        for r in rows:
            for c in ("S", "S_lo", "S_hi", "ST", "ST_lo", "ST_hi"):
                self.assertTrue(math.isfinite(float(r[c])), (r, c))
            self.assertLessEqual(float(r["S_lo"]), float(r["S_hi"]))
            self.assertLessEqual(float(r["ST_lo"]), float(r["ST_hi"]))
        self.assertEqual(meta["total_paths"], 2048 * (len(rows) + 2))

    FINANCING_SOURCES = ("debt_rates", "valuation", "equity_capacity", "warrant_price",
                         "deal_terms", "plan_coverage", "revenue_defaults")

    def test_sobol_splits_financing_by_source(self):
        # Issue 24: no `financing` group; each source the scenario draws is its own factor.
        _, rows, _ = self.sens("--method", "sobol", "--paths", "256", "--bootstrap", "100")
        factors = [r["factor"] for r in rows]  # ai-lab-2025 draws no financing
        for g in self.FINANCING_SOURCES + ("financing",):
            self.assertNotIn(g, factors)
        lab = os.path.join(SRC, "scenarios", "ai-lab-2026.toml")
        csvs = []
        for threads in ("1", "2"):
            out = os.path.join(self.dir, "lab" + threads)
            p = run("sensitivity", lab, "--method", "sobol", "--paths", "256", "--bootstrap",
                    "100", "--threads", threads, "--quiet", "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "sensitivity.csv")) as f:
                csvs.append(f.read())
        self.assertEqual(csvs[0], csvs[1])  # reproducible across thread counts
        factors = [r["factor"] for r in read_csv(os.path.join(self.dir, "lab1", "sensitivity.csv"))]
        self.assertNotIn("financing", factors)
        self.assertNotIn("revenue_defaults", factors)  # no revenue contract
        for g in self.FINANCING_SOURCES[:-1]:
            self.assertIn(g, factors)

    def test_sobol_over_time(self):
        _, rows, _ = self.sens("--method", "sobol", "--paths", "1024", "--bootstrap", "100",
                               "--over-time", "cash")
        self.assertEqual(sorted({r["year"] for r in rows}), ["2028", "2030"])

    def test_calibrate_hits_target_and_writes_a_scenario_that_reproduces_it(self):
        written = os.path.join(self.dir, "calibrated.toml")
        p = run("calibrate", reference(), "--vary", "revenue.growth0=0.3:1.5", "--target",
                "arr_at_2030.p50=100", "--paths", "4000", "--write", written, "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("revenue.growth0 = ", p.stdout)
        self.assertIn("(target 100)", p.stdout)
        out = os.path.join(self.dir, "run")
        q = run("run", written, "--paths", "4000", "--quiet", "--out", out)
        self.assertEqual(q.returncode, 0, q.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            p50 = json.load(f)["metrics"]["arr_at_2030"]["p50"]
        self.assertAlmostEqual(p50, 100, delta=1e-6)

    def test_calibrate_target_out_of_reach(self):
        p = run("calibrate", reference(), "--vary", "revenue.growth0=0.3:0.4", "--target",
                "arr_at_2030.p50=1000", "--paths", "500", "--quiet")
        self.assert_invalid(p, "outside what revenue.growth0 in [0.3, 0.4] reaches")

    def test_bad_input_exits_2_naming_it(self):
        s = reference()
        cases = [
            (["sensitivity", s, "--method", "anova"], ["unknown method 'anova'"]),
            (["sensitivity", s, "--output", "gap"], ["unknown output 'gap'"]),
            (["sensitivity", s, "--method", "tornado", "--stat", "p101"], ["unknown statistic 'p101'"]),
            (["sensitivity", s, "--method", "tornado", "--vary", "build.nothing=1:2"],
             ["unknown key 'build.nothing'"]),
            (["sensitivity", s, "--method", "tornado", "--vary", "build.plan_cap_gw=40:20"],
             ["LO (40) must be below HI (20)"]),
            (["sensitivity", s, "--method", "sobol", "--stat", "p90"], ["does not apply to sobol"]),
            (["sensitivity", s, "--method", "sobol", "--over-time", "nope"], ["unknown series 'nope'"]),
            (["calibrate", s, "--vary", "revenue.growth0=1:0.5", "--target", "arr_end.mean=100"],
             ["must be below"]),
            (["calibrate", s, "--vary", "revenue.growth0=0.5:1", "--target", "arr_end.avg=100"],
             ["unknown statistic 'avg'"]),
            (["calibrate", s, "--vary", "revenue.growth0=0.5:1", "--target", "arr_end.mean"],
             ["expected OUTPUT.STAT=VALUE"]),
        ]
        for args, fragments in cases:
            with self.subTest(args=args):
                self.assert_invalid(run(*args, "--paths", "200", "--quiet"), *fragments)

    def test_sobol_shards_merge_to_the_single_analysis_byte_for_byte(self):
        _, whole, _ = self.sens("--method", "sobol", "--paths", "3000", "--bootstrap", "100")
        dirs = []
        for k in (1, 2, 3):
            d = os.path.join(self.dir, f"s{k}")
            p = run("sensitivity", reference(), "--method", "sobol", "--paths", "3000",
                    "--bootstrap", "100", "--shard", f"{k}/3", "--out", d, "--quiet")
            self.assertEqual(p.returncode, 0, p.stderr)
            dirs.append(d)
        out = os.path.join(self.dir, "merged")
        p = run("merge", dirs[2], dirs[0], dirs[1], "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(read_csv(os.path.join(out, "sensitivity.csv")), whole)
        self.assert_invalid(run("merge", dirs[0], dirs[1], "--out", out), "shard 3 of 3 is missing")
        self.assert_invalid(run("merge", dirs[0], dirs[0], dirs[1], "--out", out), "given twice")
        with open(os.path.join(dirs[1], "sensitivity.bin"), "r+b") as f:
            f.seek(40)
            b = f.read(1)
            f.seek(40)
            f.write(bytes([b[0] ^ 1]))
        self.assert_invalid(run("merge", *dirs, "--out", out), "checksum mismatch")
        self.assert_invalid(run("sensitivity", reference(), "--method", "rank", "--shard", "1/2",
                                "--out", out), "--shard applies to --method sobol and tornado")

    def test_tornado_shards_merge_to_the_single_analysis(self):
        args = ["--method", "tornado", "--paths", "1500", "--stat", "p90",
                "--vary", "build.plan_cap_gw=20:40"]
        _, whole, meta = self.sens(*args)
        dirs = []
        for k in (1, 2):
            d = os.path.join(self.dir, f"t{k}")
            p = run("sensitivity", reference(), *args, "--shard", f"{k}/2", "--out", d, "--quiet")
            self.assertEqual(p.returncode, 0, p.stderr)
            dirs.append(d)
        out = os.path.join(self.dir, "merged")
        p = run("merge", dirs[1], dirs[0], "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(read_csv(os.path.join(out, "sensitivity.csv")), whole)
        with open(os.path.join(out, "sensitivity.json")) as f:
            self.assertEqual(json.load(f)["base"], meta["base"])
        # A Sobol shard does not merge with a tornado shard.
        s = os.path.join(self.dir, "s2")
        p = run("sensitivity", reference(), "--method", "sobol", "--paths", "1500", "--bootstrap",
                "100", "--shard", "2/2", "--out", s, "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_invalid(run("merge", dirs[0], s, "--out", out), "is not of the same analysis")

    def test_failed_shard_leaves_no_folder_and_calibrate_error_is_honest(self):
        out = os.path.join(self.dir, "never")
        p = run("sensitivity", reference(), "--method", "sobol", "--shard", "4/3", "--out", out)
        self.assert_invalid(p, "--shard 4/3")
        self.assertFalse(os.path.exists(out))
        # The value's error comes from the slope at the scale of the statistic's half-width:
        # check it against the slope measured by two runs 0.05 apart around the answer.
        p = run("calibrate", reference(), "--vary", "revenue.growth0=0.3:1.5", "--target",
                "breakeven.mean=6", "--paths", "4000", "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        first = p.stdout.splitlines()[0]  # revenue.growth0 = X ± E (95%, Monte Carlo)
        value, err = float(first.split(" = ")[1].split(" ± ")[0]), float(first.split(" ± ")[1].split()[0])
        second = p.stdout.splitlines()[1]  # puts breakeven.mean at Y ± H (target 6)
        half = float(second.split(" ± ")[1].split()[0])
        stats = []
        for x in (value - 0.05, value + 0.05):
            d = os.path.join(self.dir, f"g{x}")
            with open(reference()) as f:
                text = f.read()
            old = "growth0 = { triangular = [0.5, 0.8, 1.1] }"
            self.assertIn(old, text)
            path = os.path.join(self.dir, f"g{x}.toml")
            with open(path, "w") as f:
                f.write(text.replace(old, f"growth0 = {{ triangular = [{x - 0.3}, {x}, {x + 0.3}] }}"))
            q = run("run", path, "--paths", "4000", "--quiet", "--out", d)
            self.assertEqual(q.returncode, 0, q.stderr)
            with open(os.path.join(d, "summary.json")) as f:
                stats.append(json.load(f)["metrics"]["breakeven"]["mean"])
        slope = abs(stats[1] - stats[0]) / 0.1
        # Within a factor 3 of half / slope (the old estimate was 30x too small here).
        self.assertGreater(err, half / slope / 3)
        self.assertLess(err, half / slope * 3)

    def test_vary_on_a_distribution_without_a_shift(self):
        with open(reference()) as f:
            text = f.read()
        old = "arr0 = 20.0"
        self.assertIn(old, text)
        path = os.path.join(self.dir, "ln.toml")
        with open(path, "w") as f:
            f.write(text.replace(old, "arr0 = { lognormal = [20.0, 3.0] }", 1))
        p = run("sensitivity", path, "--method", "tornado", "--vary", "revenue.arr0=15:25",
                "--paths", "200", "--quiet")
        self.assert_invalid(p, "'revenue.arr0' is a lognormal distribution, which has no location shift")

    def test_tornado_assumptions_move_tagged_fixed_keys_with_common_random_numbers(self):
        v3 = os.path.join(SRC, "scenarios", "ai-lab-2026-stress.toml")

        def tornado(*args, out):
            path = os.path.join(self.dir, out)
            p = run("sensitivity", v3, "--method", "tornado", "--output", "unpaid_total", "--paths", "150",
                    "--quiet", "--out", path, *args)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(path, "sensitivity.json")) as f:
                return p.stdout, {r["factor"]: r for r in read_csv(os.path.join(path, "sensitivity.csv"))}, json.load(f)

        text, rows, meta = tornado("--assumptions", "20%", out="a")
        with open(v3) as f:
            lines = f.read().splitlines()
        # every key moved is a fixed number whose own line says [assumption]
        growth = rows["opex.fixed_opex_growth"]
        self.assertEqual((growth["kind"], float(growth["low_input"]), float(growth["high_input"])),
                         ("vary", 0.2 * 0.8, 0.2 * 1.2))
        self.assertIn("opex.fixed_opex_growth", meta["assumptions"])
        self.assertIn("contract.azure.years", meta["assumptions"])  # a [[contract]] key by its name
        for key in meta["assumptions"]:
            last = key.split(".")[-1]
            self.assertTrue(any(l.strip().startswith(last + " ") and "[assumption]" in l for l in lines), key)
        self.assertNotIn("revenue.arr0", rows)                 # [reported]: not an assumption
        self.assertNotIn("contract.azure.start", rows)         # a calendar year is not moved by 20%
        self.assertEqual(rows["cost.cost_per_gw"]["kind"], "pin")  # drawn inputs are pinned as before
        self.assertIn("fixed keys tagged [assumption] moved", text)
        # the same row as an explicit --vary, bit for bit: common random numbers
        _, alone, _ = tornado("--vary", f"opex.fixed_opex_growth={growth['low_input']}:{growth['high_input']}",
                              out="b")
        self.assertEqual(alone["opex.fixed_opex_growth"]["stat_low"], growth["stat_low"])
        self.assertEqual(alone["opex.fixed_opex_growth"]["stat_high"], growth["stat_high"])
        # --assumptions-all: every fixed numeric key, tagged or not
        _, every, meta_all = tornado("--assumptions-all", out="c")
        self.assertEqual(every["revenue.arr0"]["kind"], "vary")
        self.assertEqual((float(every["revenue.arr0"]["low_input"]), float(every["revenue.arr0"]["high_input"])),
                         (16.0, 24.0))
        self.assertGreater(len(meta_all["assumptions"]), len(meta["assumptions"]))
        # refused where it does not apply, and a bad share
        p = run("sensitivity", v3, "--method", "rank", "--assumptions", "20%", "--quiet")
        self.assert_invalid(p, "--assumptions applies to --method tornado")
        p = run("sensitivity", v3, "--method", "tornado", "--assumptions", "lots", "--quiet")
        self.assert_invalid(p, "--assumptions 'lots'")
        p = run("sensitivity", v3, "--method", "tornado", "--assumptions", "150%", "--quiet")
        self.assert_invalid(p, "expected a share between 0 and 1")
        untagged = os.path.join(self.dir, "untagged.toml")
        with open(untagged, "w") as f:
            f.write("\n".join(l.replace("[assumption]", "") for l in lines))
        p = run("sensitivity", untagged, "--method", "tornado", "--assumptions", "0.2", "--quiet",
                "--paths", "100")
        self.assert_invalid(p, "is tagged [assumption] in its line's comment", "--assumptions-all")

    def test_calibrate_accepts_nan_share_as_run_target_does(self):
        p = run("calibrate", reference(), "--vary", "revenue.arr_per_gw=5:30", "--target",
                "breakeven.nan_share=0.4", "--paths", "500", "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("puts breakeven.nan_share at 0.4", p.stdout)
        p = run("calibrate", reference(), "--vary", "revenue.arr_per_gw=5:30", "--target",
                "breakeven.nan_sharee=0.4", "--paths", "500", "--quiet")
        self.assert_invalid(p, "prob_positive or nan_share")


class JointSensitivity(unittest.TestCase):
    """sensitivity --counterparty NAME=lab.toml: every evaluation a joint run (issue 23)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.prov = os.path.join(SRC, "scenarios", "oracle-side.toml")
        self.lab = os.path.join(SRC, "scenarios", "ai-lab-2026-stress.toml")

    def tearDown(self):
        self.tmp.cleanup()

    def sens(self, out, *args, joint=True):
        path = os.path.join(self.dir, out)
        extra = ["--counterparty", f"oracle={self.lab}"] if joint else []
        p = run("sensitivity", self.prov, "--quiet", "--out", path, *args, *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(path, "sensitivity.json")) as f:
            meta = json.load(f)
        return read_csv(os.path.join(path, "sensitivity.csv")), meta

    def test_each_method_differs_from_alone_is_reproducible_and_records_the_lab(self):
        r = run("run", self.prov, "--paths", "200", "--quiet", "--counterparty",
                f"oracle={self.lab}", "--out", os.path.join(self.dir, "run"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.dir, "run", "summary.json")) as f:
            joint_hash = json.load(f)["scenario_hash"]
        provider_hash, lab_part = joint_hash.split("+", 1)
        for method, args in (("rank", ["--paths", "2000"]),
                             ("tornado", ["--paths", "1000", "--output", "received_oracle"]),
                             ("sobol", ["--paths", "256", "--bootstrap", "100",
                                        "--output", "received_oracle"])):
            with self.subTest(method=method):
                a, meta = self.sens(method + "1", "--method", method, *args)
                b, _ = self.sens(method + "2", "--method", method, *args)
                alone, alone_meta = self.sens(method + "0", "--method", method, *args, joint=False)
                self.assertEqual(a, b)  # reproducible
                self.assertNotEqual(a, alone)  # the lab's payments change the analysis
                self.assertEqual(meta["scenario_hash"], joint_hash)
                self.assertEqual(meta["provider_scenario_hash"], provider_hash)
                self.assertEqual(alone_meta["scenario_hash"], provider_hash)
                self.assertNotIn("counterparties", alone_meta)
                self.assertEqual(meta["counterparties"],
                                 [{"name": "oracle", "scenario_hash": lab_part.split("=", 1)[1],
                                   "scenario_file": self.lab}])

    def test_shards_of_a_joint_analysis_merge_to_the_single_one(self):
        for method, args in (("sobol", ["--paths", "300", "--bootstrap", "100"]),
                             ("tornado", ["--paths", "600"])):
            with self.subTest(method=method):
                args = ["--method", method, "--output", "received_oracle", *args]
                whole, meta = self.sens(method, *args)
                dirs = []
                for k in (1, 2):
                    d = os.path.join(self.dir, f"{method}{k}")
                    p = run("sensitivity", self.prov, *args, "--shard", f"{k}/2", "--out", d,
                            "--quiet", "--counterparty", f"oracle={self.lab}")
                    self.assertEqual(p.returncode, 0, p.stderr)
                    dirs.append(d)
                out = os.path.join(self.dir, method + "merged")
                p = run("merge", dirs[1], dirs[0], "--out", out)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(read_csv(os.path.join(out, "sensitivity.csv")), whole)
                with open(os.path.join(out, "sensitivity.json")) as f:
                    merged = json.load(f)
                self.assertEqual(merged["scenario_hash"], meta["scenario_hash"])
                self.assertEqual(merged["counterparties"][0]["name"], "oracle")
                # A shard of the provider alone does not merge with a joint one.
                d = os.path.join(self.dir, method + "alone")
                p = run("sensitivity", self.prov, *args, "--shard", "2/2", "--out", d, "--quiet")
                self.assertEqual(p.returncode, 0, p.stderr)
                p = run("merge", dirs[0], d, "--out", os.path.join(self.dir, method + "x"))
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("scenario hash", p.stderr)

    def test_bad_counterparty_exits_2_naming_it(self):
        with open(self.lab) as f:
            shorter = os.path.join(self.dir, "short-lab.toml")
            with open(shorter, "w") as g:
                g.write(f.read().replace("horizon_years = 10", "horizon_years = 8"))
        neo = os.path.join(SRC, "scenarios", "neocloud.toml")
        for method in ("rank", "tornado", "sobol"):
            for bad, words in ((f"azure={self.lab}", 'no [[revenue_contract]] named "azure"'),
                               (f"oracle={neo}", 'no [[contract]] named "oracle"'),
                               ("oracle", "expected NAME=lab.toml"),
                               (f"oracle={shorter}", "a joint run needs one time grid")):
                with self.subTest(method=method, bad=bad):
                    out = os.path.join(self.dir, "bad")
                    p = run("sensitivity", self.prov, "--method", method, "--paths", "100",
                            "--counterparty", bad, "--out", out, "--quiet")
                    self.assertEqual(p.returncode, 2, p.stderr)
                    self.assertIn(words, p.stderr)
                    self.assertIn("--counterparty", p.stderr)
                    self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
