"""End-to-end tests of the capexsim binary's sampling, Monte Carlo error, thresholds and
target runs.

Run by ctest as: python3 test_cli_precision.py CAPEXSIM_BINARY SOURCE_DIR
"""
import json
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


class Precision(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_table_has_the_mean_half_width_and_thresholds(self):
        p = run("run", reference(), "--paths", "4000", "-q", "--threshold", "funding_gap=1000,2000")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("±95%", p.stdout.splitlines()[2])
        self.assertIn("P(funding_gap > 1000.0) = ", p.stdout)
        self.assertIn("P(funding_gap > 2000.0) = ", p.stdout)

    def test_summary_json_has_ci95_fields_and_exceedance(self):
        out = os.path.join(self.dir, "o")
        p = run("run", reference(), "--paths", "3000", "-q", "--out", out, "--sampling", "sobol",
                "--threshold", "funding_gap=2000")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("note: sobol sampling is balanced at a power-of-two", p.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            j = json.load(f)
        self.assertEqual(j["sampling"], "sobol")
        self.assertIn("power-of-two", j["note"])
        gap = j["metrics"]["funding_gap"]
        for key in ["mean_ci95", "p5_ci95", "p95_ci95", "prob_positive_ci95", "cvar95_ci95",
                    "cvar05", "cvar05_ci95", "nan_share_ci95"]:
            self.assertIn(key, gap)
        self.assertAlmostEqual(gap["mean_ci95"], 1.959963984540054 * gap["stderr"])
        self.assertLess(gap["cvar05"], gap["p5"])
        e = gap["exceedance"]["2000.0"]
        self.assertTrue(0 < e["prob"] < 1 and 0 < e["ci95"] < 0.05)

    def test_target_run_equals_a_fixed_run(self):
        a, b = os.path.join(self.dir, "a"), os.path.join(self.dir, "b")
        p = run("run", reference(), "--target", "funding_gap.p95:2%", "--paths", "2000", "--out", a)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("target funding_gap.p95:2.0% reached with", p.stdout)
        self.assertIn("paths: funding_gap.p95 = ", p.stderr)  # progress after each batch
        with open(os.path.join(a, "summary.json")) as f:
            ja = json.load(f)
        self.assertTrue(ja["target"]["reached"])
        n = ja["paths"]
        p = run("run", reference(), "--paths", str(n), "-q", "--out", b)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(b, "summary.json")) as f:
            jb = json.load(f)
        for j in (ja, jb):
            j.pop("wall_time_s")
            j.pop("run_id")  # the output set's id: new for every run
        ja.pop("target")
        self.assertEqual(ja, jb)
        with open(os.path.join(a, "bands.csv")) as fa, open(os.path.join(b, "bands.csv")) as fb:
            self.assertEqual(fa.read(), fb.read())

    def test_target_not_reached_says_so(self):
        p = run("run", reference(), "--target", "funding_gap.mean:0.01%", "--max-paths", "20000", "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("NOT reached", p.stdout)
        self.assertIn("--max-paths 20,000", p.stdout)

    def test_bad_input_exits_2_with_the_key(self):
        cases = [
            (["--sampling", "halton"], "--sampling halton: expected random, lhs or sobol"),
            (["--sampling", "lhs", "--target", "funding_gap.p95:1%"], "cannot be used with lhs"),
            (["--target", "funding_gap.p96:1%"], "no statistic named 'p96'"),
            (["--target", "funding_gap.p95:0"], "expected a positive tolerance"),
            (["--target", "funding_gap.p95:-1%"], "expected a positive tolerance"),
            (["--target", "nope.mean:1%"], "no output named 'nope'"),
            (["--threshold", "nope=1"], "no output named 'nope'"),
            (["--threshold", "funding_gap=abc"], "'abc' is not a finite number"),
            (["--max-paths", "1000"], "--max-paths is the cap of a --target run"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                p = run("run", reference(), "--paths", "100", "-q", *args)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertIn(message, p.stderr)

    def test_scenario_keys_are_validated(self):
        with open(reference()) as f:
            text = f.read()
        bad = {
            "sampling": text.replace('step = "month"', 'step = "month"\nsampling = "halton"'),
            "fixed input": text + '\n[input_correlation]\ninputs = ["cost.cost_per_gw", "cost.it_share"]\n'
                                  'matrix = [[1, 0.5], [0.5, 1]]\n',
            "unknown input": text + '\n[input_correlation]\ninputs = ["cost.cost_per_gw", "cost.nope"]\n'
                                    'matrix = [[1, 0.5], [0.5, 1]]\n',
            "not PD": text + '\n[input_correlation]\ninputs = ["cost.cost_per_gw", "cost.learning_rate", '
                             '"revenue.arr_per_gw"]\nmatrix = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]\n',
            "threshold": text.replace("checkpoints = [2028.0, 2030.0]",
                                      "checkpoints = [2028.0, 2030.0]\nthresholds = { nope = [1] }"),
        }
        keys = {"sampling": "simulation.sampling", "fixed input": "input_correlation.inputs[1]",
                "unknown input": "input_correlation.inputs[1]", "not PD": "input_correlation.matrix",
                "threshold": "outputs.thresholds.nope"}
        for name, body in bad.items():
            with self.subTest(name=name):
                path = os.path.join(self.dir, "s.toml")
                with open(path, "w") as f:
                    f.write(body)
                p = run("check", path)
                self.assertEqual(p.returncode, 2, p.stdout)
                self.assertIn(keys[name], p.stderr)
                self.assertIn("s.toml:", p.stderr)


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1])
