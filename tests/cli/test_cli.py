"""End-to-end tests of the capexsim binary: exit codes, messages, files, signals.

Run by ctest as: python3 test_cli.py CAPEXSIM_BINARY SOURCE_DIR
Standard library only (unittest), so it runs before any Python package is built.
"""
import csv
import json
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BIN = None
SRC = None


def run(*args, timeout=300, **kw):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, **kw)


def reference():
    return os.path.join(SRC, "scenarios", "ai-lab-2025.toml")


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def scenario_with(self, old, new, name="s.toml"):
        with open(reference()) as f:
            text = f.read()
        self.assertIn(old, text)
        return self.write(name, text.replace(old, new, 1))

    def assert_invalid(self, proc, *fragments):
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertTrue(proc.stderr.startswith("capexsim: error: "), proc.stderr)
        for f in fragments:
            self.assertIn(f, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertNotIn("terminate called", proc.stderr)


class RunOutputs(Base):
    def test_files_as_specified(self):
        out = os.path.join(self.dir, "out")
        p = run("run", reference(), "--paths", "1e3", "--seed", "7", "--out", out, "--per-path", "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        self.assertIn("funding_gap", p.stdout)
        self.assertIn("1,000 paths", p.stdout)
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        self.assertEqual(s["scenario"], "ai-lab-2025")
        self.assertEqual((s["paths"], s["seed"], s["steps"]), (1000, 7, 120))
        for key in ("scenario_hash", "version", "wall_time_s"):
            self.assertIn(key, s)
        self.assertGreaterEqual(s["threads"], 1)  # the count used, not the 0 asked for
        gap = s["metrics"]["funding_gap"]
        for key in ["mean", "sd", "stderr", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99",
                    "prob_positive", "cvar95", "nan_share"]:
            self.assertIn(key, gap)
        self.assertLessEqual(gap["p5"], gap["p50"])
        self.assertLessEqual(gap["p50"], gap["p95"])
        self.assertIn("arr_at_2030", s["metrics"])
        with open(os.path.join(out, "bands.csv")) as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ["t", "year", "series", "mean", "p5", "p25", "p50", "p75", "p95"])
        self.assertEqual(len(rows) - 1, 8 * 120)
        self.assertEqual({r[2] for r in rows[1:]},
                         {"cash", "capacity", "serving_capacity", "arr", "demand", "capex_rate",
                          "fcf_rate", "cost_per_gw"})
        with open(os.path.join(out, "paths.csv")) as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0][:3], ["path", "funding_gap", "gap_time"])
        self.assertEqual(len(rows) - 1, 1000)
        self.assertEqual([r[0] for r in rows[1:4]], ["0", "1", "2"])
        # CSV numbers round-trip: the mean of the column equals summary.json's mean to ~1e-12.
        gaps = [float(r[1]) for r in rows[1:]]
        self.assertAlmostEqual(sum(gaps) / len(gaps), gap["mean"], delta=1e-9 * abs(gap["mean"]))
        self.assertEqual(sorted(os.listdir(out)), ["bands.csv", "paths.csv", "summary.json"])

    def test_same_bits_for_any_thread_count(self):
        outs = []
        for threads in ("1", "2"):
            out = os.path.join(self.dir, "t" + threads)
            p = run("run", reference(), "--paths", "1500", "--threads", threads, "--out", out, "--per-path", "-q")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "summary.json")) as f:
                self.assertEqual(json.load(f)["threads"], int(threads))
            with open(os.path.join(out, "paths.csv"), "rb") as f:
                paths = f.read()
            with open(os.path.join(out, "bands.csv"), "rb") as f:
                bands = f.read()
            outs.append((paths, bands))
        self.assertEqual(outs[0], outs[1])

    def test_existing_out_folder_is_reused_and_other_files_left_alone(self):
        out = os.path.join(self.dir, "out")
        os.makedirs(out)
        keep = os.path.join(out, "notes.txt")
        with open(keep, "w") as f:
            f.write("mine")
        p = run("run", reference(), "--paths", "300", "--out", out, "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(keep) as f:
            self.assertEqual(f.read(), "mine")
        self.assertEqual(sorted(os.listdir(out)), ["bands.csv", "notes.txt", "summary.json"])

    def test_check_output_runs_to_the_same_results(self):
        p = run("check", reference())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("disruption_mean_years = 0.25", p.stdout)
        self.assertIn("{ triangular = [40.0, 50.0, 60.0] }", p.stdout)
        self.assertIn("long_run_growth", p.stdout)
        resolved = self.write("resolved.toml", p.stdout)
        a, b = os.path.join(self.dir, "a"), os.path.join(self.dir, "b")
        for scen, out in ((reference(), a), (resolved, b)):
            r = run("run", scen, "--paths", "500", "--out", out, "-q")
            self.assertEqual(r.returncode, 0, r.stderr)
        ja = json.load(open(os.path.join(a, "summary.json")))
        jb = json.load(open(os.path.join(b, "summary.json")))
        self.assertEqual(ja["metrics"], jb["metrics"])
        self.assertEqual(ja["scenario_hash"], jb["scenario_hash"])

    def test_compare_flags_a_real_change_and_not_noise(self):
        cheaper = self.scenario_with("cost_per_gw = { triangular = [40.0, 50.0, 60.0] }",
                                     "cost_per_gw = { triangular = [30.0, 35.0, 45.0] }")
        p = run("compare", reference(), cheaper, "--paths", "2000", "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {l.split()[0]: l.split() for l in p.stdout.splitlines() if l.strip()}
        # columns: output unit A-mean B-mean B-A se [*] ...
        self.assertEqual(rows["funding_gap"][6], "*")
        self.assertLess(float(rows["funding_gap"][4]), 0)  # B - A < 0: cheaper needs less
        # Revenue does not depend on cost: the paired difference is exactly zero, no star.
        self.assertEqual(float(rows["arr_end"][4]), 0.0)
        self.assertNotEqual(rows["arr_end"][6], "*")

    def test_help_and_version(self):
        for args in (["--help"], ["run", "--help"], ["check", "--help"], ["compare", "--help"]):
            p = run(*args)
            self.assertEqual(p.returncode, 0)
            self.assertIn("Usage", p.stdout)
        p = run("run", "--help")
        for opt in ("--paths", "--seed", "--threads", "--out", "--per-path", "--quiet"):
            self.assertIn(opt, p.stdout)
        self.assertRegex(run("--version").stdout, r"^capexsim \d+\.\d+\.\d+")


class Errors(Base):
    """One test per error class: exit code 2, a message naming what is wrong, no output."""

    def assert_no_output(self, out):
        self.assertFalse(os.path.exists(out) and os.listdir(out), os.listdir(out) if os.path.exists(out) else "")

    def test_invalid_scenario(self):
        bad = self.scenario_with("lead_time_years = 1.5", "lead_time_years = -1.5")
        out = os.path.join(self.dir, "out")
        p = run("run", bad, "--out", out, "--paths", "100")
        self.assert_invalid(p, bad + ":", "build.lead_time_years", "> 0")
        self.assertRegex(p.stderr, r"s\.toml:\d+:\d+: build\.lead_time_years")
        self.assert_no_output(out)
        self.assert_invalid(run("check", bad), "build.lead_time_years", "docs/model.md")
        # A value in dollars rather than $B names the unit; a 40,000-part key is an error, not a crash.
        dollars = self.scenario_with("cost_per_gw = { triangular = [40.0, 50.0, 60.0] }", "cost_per_gw = 50e9")
        self.assert_invalid(run("check", dollars), "cost.cost_per_gw", "expected $B/GW, e.g. 50", "wrong unit")
        deep = os.path.join(SRC, "fuzz", "regressions", "deep-dotted-key.toml")
        self.assert_invalid(run("check", deep), ":1:", "more than 64 dotted parts")

    def test_unknown_key_names_its_line(self):
        bad = self.scenario_with("jump_sd = 0.10", "jump_sdev = 0.10")
        with open(bad) as f:
            line = next(i for i, l in enumerate(f, 1) if l.startswith("jump_sdev"))
        p = run("check", bad)
        self.assert_invalid(p, "revenue.jump_sdev", "unknown key", ":%d:" % line)

    def test_bad_toml(self):
        bad = self.write("broken.toml", "[simulation\nstart = 2026\n")
        self.assert_invalid(run("run", bad), "broken.toml:1", "invalid TOML")

    def test_unreadable_file(self):
        missing = os.path.join(self.dir, "nope.toml")
        self.assert_invalid(run("run", missing), "nope.toml", "cannot open")
        self.assert_invalid(run("check", self.dir), "not a regular file")  # a folder is not a file

    def test_bad_options(self):
        out = os.path.join(self.dir, "out")
        self.assert_invalid(run("run", reference(), "--paths", "abc", "--out", out), "--paths", "whole number")
        self.assert_invalid(run("run", reference(), "--paths", "0"), "--paths")
        self.assert_invalid(run("run", reference(), "--paths", "1.5"), "--paths")
        self.assert_invalid(run("run", reference(), "--seed", "-3"), "--seed")
        self.assert_invalid(run("run", reference(), "--threads", "-1"), "--threads -1: expected a whole number from 0")
        self.assertNotIn("308", run("compare", reference(), reference(), "--threads", "-1").stderr)
        self.assert_invalid(run("run", reference(), "--colour"), "colour")
        self.assert_invalid(run("run", reference(), "--per-path"), "--per-path", "--out")
        self.assert_invalid(run("frobnicate"), "frobnicate")
        self.assert_invalid(run())
        self.assert_no_output(out)

    def test_unwritable_out_dir(self):
        blocker = self.write("afile", "x")
        p = run("run", reference(), "--out", os.path.join(blocker, "sub"), "--paths", "100")
        self.assert_invalid(p, "--out", "afile")
        p = run("run", reference(), "--out", blocker, "--paths", "100")
        self.assert_invalid(p, "not a folder")
        self.assertEqual(p.stdout, "")  # nothing ran

    def test_interrupt_stops_fast_writes_nothing_exits_130(self):
        out = os.path.join(self.dir, "out")
        proc = subprocess.Popen([BIN, "run", reference(), "--paths", "5e7", "--out", out, "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        elapsed = time.monotonic() - t0
        self.assertEqual(proc.returncode, 130, stderr)
        self.assertLess(elapsed, 1.0)
        self.assertIn("interrupted", stderr)
        self.assertEqual(os.listdir(out), [])  # the folder was prepared, nothing written


class Progress(Base):
    def run_on_pty(self, *args):
        """Run with stderr on a pseudo-terminal; return (exit code, what stderr showed)."""
        master, slave = pty.openpty()
        proc = subprocess.Popen([BIN, *args], stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=120)
        os.close(master)
        return proc.returncode, seen.decode(errors="replace")

    def test_bar_on_a_terminal_for_long_runs(self):
        # Long enough (several seconds on one thread) to pass the bar's 1 s delay.
        code, shown = self.run_on_pty("run", reference(), "--paths", "1.5e6", "--threads", "1")
        self.assertEqual(code, 0)
        self.assertIn("paths/s", shown)
        self.assertIn("ETA", shown)

    def test_quiet_and_short_runs_are_silent(self):
        code, shown = self.run_on_pty("run", reference(), "--paths", "2e5", "--threads", "1", "--quiet")
        self.assertEqual(code, 0)
        self.assertEqual(shown, "")
        code, shown = self.run_on_pty("run", reference(), "--paths", "200")
        self.assertEqual(shown, "")

    def test_no_bar_when_stderr_is_not_a_terminal(self):
        p = run("run", reference(), "--paths", "2e5", "--threads", "1")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr, "")


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
