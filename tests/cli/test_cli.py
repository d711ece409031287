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
        self.assertEqual(sorted(os.listdir(out)), [".capexsim", "bands.csv", "paths.csv", "summary.json"])

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
        self.assertEqual(sorted(os.listdir(out)), [".capexsim", "bands.csv", "notes.txt", "summary.json"])

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

    def test_check_of_the_financed_reference_reproduces_its_run(self):
        # ai-lab-2026 uses every optional section (debt, valuation, equity policy, warrants,
        # vendor equity, deal terms with renewals and cancellation, demand-led plan,
        # constraint): its resolved form runs to the same bits, and the table ends with
        # the counterparties.
        src = os.path.join(SRC, "scenarios", "ai-lab-2026-stress.toml")
        p = run("check", src)
        self.assertEqual(p.returncode, 0, p.stderr)
        for text in ("[[debt]]", "[equity_policy]", "[[warrant]]", "[constraint]",
                     'plan = "demand"', 'kind = "equity"', "renewals = 1"):
            self.assertIn(text, p.stdout)
        resolved = self.write("resolved26.toml", p.stdout)
        a, b = os.path.join(self.dir, "a26"), os.path.join(self.dir, "b26")
        outs = []
        for scen, out in ((src, a), (resolved, b)):
            r = run("run", scen, "--paths", "500", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            outs.append(r.stdout)
        with open(os.path.join(a, "summary.json")) as fa, open(os.path.join(b, "summary.json")) as fb:
            ja, jb = json.load(fa), json.load(fb)
        self.assertIn("counterparty          P(never in   P(paid in", outs[0])
        self.assertIn("builders (capex)", outs[0])
        self.assertIn("lenders (debt)", outs[0])
        # The waterfall opens the table (docs/cli.md): gross need first, then the residual.
        first = [l.split()[0] for l in outs[0].splitlines()[2:11]]
        self.assertEqual(first[:4], ["output", "funding_need", "need_time", "funding_need_by_2028"])
        self.assertIn("sources and uses, $B", outs[0])
        self.assertEqual(list(ja["metrics"])[:2], ["funding_need", "need_time"])
        self.assertEqual(ja["metrics"], jb["metrics"])
        self.assertEqual(ja["scenario_hash"], jb["scenario_hash"])
        for name in ("debt_peak", "dilution", "warrant_proceeds", "unpaid_oracle", "default_time"):
            self.assertIn(name, ja["metrics"])
        with open(os.path.join(a, "bands.csv")) as fa, open(os.path.join(b, "bands.csv")) as fb:
            self.assertEqual(fa.read(), fb.read())

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

    def test_compare_long_names_and_counterparties(self):
        v3 = os.path.join(SRC, "scenarios", "ai-lab-2026-stress.toml")
        with open(v3) as f:
            text = f.read().replace('name = "azure"', 'name = "microsoft-azure-openai-cloud-deal"')
        a = self.write("long-a.toml", text)
        b = self.write("long-b.toml", text.replace("fixed_opex = 10.0", "fixed_opex = 12.0"))
        p = run("compare", a, b, "--paths", "300", "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        head = next(l for l in lines if l.startswith("output "))
        long = next(l for l in lines if l.startswith("unpaid_microsoft-azure-openai-cloud-deal "))
        short = next(l for l in lines if l.startswith("funding_gap "))
        # the columns line up whatever the name's length: "B - A" ends at the same place
        col = head.index("B - A") + len("B - A")
        for line in (long, short):  # right-aligned: the number ends where the header does
            self.assertNotEqual(line[col - 1], " ", line)
            self.assertEqual(line[col], " ", line)
        self.assertEqual(len(long.split()[0]), len("unpaid_microsoft-azure-openai-cloud-deal"))
        # the counterparty block: both runs' P(paid in full) and mean unpaid, with B - A
        start = lines.index(next(l for l in lines if l.startswith("counterparty ")))
        block = {l.split()[0]: l.split() for l in lines[start + 1:] if l.strip()}
        # each contract, the builders, and the v3 classes (opex, lenders, landlords)
        self.assertEqual(set(block), {"microsoft-azure-openai-cloud-deal", "oracle", "aws", "builders",
                                      "opex", "debt", "rent"})
        self.assertTrue(block["oracle"][1].endswith("%") and block["oracle"][2].endswith("%"))
        self.assertGreater(float(block["oracle"][4]), float(block["oracle"][3]))  # more opex: more unpaid
        # no counterparty block without unpaid outputs
        p = run("compare", reference(), reference(), "--paths", "200", "-q")
        self.assertNotIn("counterparty", p.stdout)

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
        # The folder was prepared (with its lock), nothing written.
        self.assertEqual(os.listdir(out), [".capexsim"])
        self.assertEqual(os.listdir(os.path.join(out, ".capexsim")), ["lock"])


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



# ---------------------------------------------------------------------------------------
# Output sets, memory limits, signals, large magnitudes (issue 10)

def read_set(out):
    """The files an --out folder shows, as {name: bytes}, read through the names."""
    files = {}
    for name in ("summary.json", "bands.csv", "paths.csv"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                files[name] = f.read()
    return files


class OutputSets(Base):
    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.dir, "out")

    def run_into(self, *extra, paths="2000", seed="1"):
        return run("run", reference(), "--paths", paths, "--seed", seed, "--out", self.out, "--quiet", *extra)

    def assert_complete(self, files, seed=None):
        """One run's set: summary.json's run_id and manifest match the other files."""
        self.assertIn("summary.json", files)
        s = json.loads(files["summary.json"])
        if seed is not None:
            self.assertEqual(s["seed"], seed)
        self.assertEqual(os.readlink(os.path.join(self.out, ".capexsim", "current")), s["run_id"])
        listed = s["files"]
        self.assertEqual(set(listed) | {"summary.json"}, set(files), "files that are not of this run")
        for name, meta in listed.items():
            self.assertEqual(len(files[name]), meta["bytes"], name)
        if "paths.csv" in files:
            rows = files["paths.csv"].decode().splitlines()
            self.assertEqual(len(rows), s["paths"] + 1)
        return s

    def assert_no_leftovers(self):
        meta = os.path.join(self.out, ".capexsim")
        live = os.readlink(os.path.join(meta, "current"))
        self.assertEqual(sorted(os.listdir(meta)), sorted(["lock", "current", live]))
        hidden = [n for n in os.listdir(self.out) if n.startswith(".") and n != ".capexsim"]
        self.assertEqual(hidden, [])

    def test_new_set_replaces_the_whole_previous_one(self):
        p = self.run_into("--per-path", seed="1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_complete(read_set(self.out), seed=1)
        # Without --per-path the previous paths.csv goes with its set.
        p = self.run_into(seed="2")
        self.assertEqual(p.returncode, 0, p.stderr)
        files = read_set(self.out)
        self.assertNotIn("paths.csv", files)
        self.assert_complete(files, seed=2)
        self.assert_no_leftovers()
        # Other files in the folder are left alone.
        self.write(os.path.join("out", "notes.txt"), "mine")
        self.assertEqual(self.run_into("--per-path", seed="3").returncode, 0)
        self.assert_complete(read_set(self.out), seed=3)
        with open(os.path.join(self.out, "notes.txt")) as f:
            self.assertEqual(f.read(), "mine")

    def test_file_size_limit_leaves_the_previous_set(self):
        # RLIMIT_FSIZE: a write past it fails with EFBIG (SIGXFSZ is ignored), as a full
        # disk would fail it; paths.csv of 20,000 paths is about 3 MB.
        import resource
        self.assertEqual(self.run_into("--per-path", seed="1").returncode, 0)
        before = read_set(self.out)

        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

        p = run("run", reference(), "--paths", "20000", "--seed", "2", "--out", self.out, "--per-path",
                "--quiet", preexec_fn=limit)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("paths.csv", p.stderr)
        self.assertIn("File too large", p.stderr)
        self.assertIn("left as it was", p.stderr)
        self.assertEqual(read_set(self.out), before)
        self.assert_no_leftovers()

    def test_full_disk_leaves_the_previous_set(self):
        mnt = os.path.join(self.dir, "small")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a small tmpfs here (not root); the file-size test covers it")
        try:
            self.out = os.path.join(mnt, "out")
            self.assertEqual(self.run_into("--per-path", seed="1").returncode, 0)
            before = read_set(self.out)
            p = self.run_into("--per-path", paths="20000", seed="2")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("No space left on device", p.stderr)
            self.assertEqual(read_set(self.out), before)
            self.assert_no_leftovers()
            # And the folder works again once there is room.
            self.assertEqual(self.run_into("--per-path", seed="3").returncode, 0)
            self.assert_complete(read_set(self.out), seed=3)
        finally:
            subprocess.run(["umount", mnt], capture_output=True)

    def test_sigkill_at_any_moment_never_mixes_sets(self):
        self.assertEqual(self.run_into("--per-path", seed="1").returncode, 0)
        seeds = {1}
        # Kill runs at spread-out moments (during the run, paths.csv, the switch); after
        # each kill the folder shows one complete set, of the previous or the new run.
        for k, delay in enumerate([0.05, 0.15, 0.25, 0.35, 0.45, 0.6, 0.8, 1.0, 1.3]):
            seed = 10 + k
            proc = subprocess.Popen([BIN, "run", reference(), "--paths", "60000", "--seed", str(seed), "--out",
                                     self.out, "--per-path", "--quiet", "--threads", "1"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if proc.returncode == 0:
                seeds.add(seed)
            s = self.assert_complete(read_set(self.out))
            self.assertTrue(s["seed"] in seeds or s["seed"] == seed, s["seed"])
            seeds.add(s["seed"])
        # The next run removes what the killed ones left.
        self.assertEqual(self.run_into("--per-path", seed="99").returncode, 0)
        self.assert_complete(read_set(self.out), seed=99)
        self.assert_no_leftovers()

    def test_second_run_into_the_same_folder_fails_fast(self):
        first = subprocess.Popen([BIN, "run", reference(), "--paths", "400000", "--seed", "5", "--out", self.out,
                                  "--per-path", "--quiet", "--threads", "1"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lock = os.path.join(self.out, ".capexsim", "lock")
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(lock) and open(lock).read().strip() == str(first.pid):
                break
            time.sleep(0.01)
        t0 = time.time()
        second = self.run_into("--per-path", seed="6")
        self.assertLess(time.time() - t0, 5)
        self.assertIsNone(first.poll(), "the first run should still be running")
        self.assert_invalid(second, "another capexsim run (pid %d)" % first.pid, self.out)
        out, err = first.communicate(timeout=300)
        self.assertEqual(first.returncode, 0, err)
        self.assert_complete(read_set(self.out), seed=5)
        self.assert_no_leftovers()

    def test_ctrl_c_while_paths_csv_is_written(self):
        self.assertEqual(self.run_into("--per-path", seed="1").returncode, 0)
        before = read_set(self.out)
        meta = os.path.join(self.out, ".capexsim")
        live = os.readlink(os.path.join(meta, "current"))
        proc = subprocess.Popen([BIN, "run", reference(), "--paths", "1e6", "--seed", "2", "--out", self.out,
                                 "--per-path", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Wait until paths.csv is being written in the new run's staging folder.
        staged = None
        deadline = time.time() + 120
        while time.time() < deadline and staged is None and proc.poll() is None:
            for d in os.listdir(meta):
                f = os.path.join(meta, d, "paths.csv")
                if d not in (live, "current", "lock") and os.path.exists(f) and os.path.getsize(f) > 0:
                    staged = f
            time.sleep(0.005)
        self.assertIsNotNone(staged, "paths.csv was never being written")
        t0 = time.time()
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
        reacted = time.time() - t0
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("interrupted", err)
        self.assertLess(reacted, 0.5)  # checked every 1,024 rows: a few ms
        self.assertEqual(read_set(self.out), before)
        self.assert_no_leftovers()

    def test_sigterm_exits_143(self):
        proc = subprocess.Popen([BIN, "run", reference(), "--paths", "1e7", "--threads", "1", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=30)[1]
        self.assertEqual(proc.returncode, 143, err)
        self.assertIn("interrupted", err)


class MemoryLimits(Base):
    def test_per_path_too_large_is_refused_before_anything(self):
        out = os.path.join(self.dir, "out")
        p = run("run", reference(), "--paths", "1e12", "--per-path", "--out", out)
        self.assert_invalid(p, "per-path outputs", "--per-path", "fewer paths", "Nothing was run")
        self.assertFalse(os.path.exists(out))

    def test_band_memory_of_a_long_weekly_horizon_is_refused(self):
        # 1,923 years of weeks (under the 100,000-step limit): about 30 GB of bands with
        # 2 threads, once killed by the system; now refused against an explicit limit.
        s = self.scenario_with('step = "month"', 'step = "week"')
        with open(s) as f:
            text = f.read()
        s = self.write("long.toml", text.replace("horizon_years = 10 ", "horizon_years = 1923 ", 1))
        p = run("run", s, "--paths", "2000", "--threads", "2", "--out", os.path.join(self.dir, "o"),
                "--memory-limit", "8G")
        self.assert_invalid(p, "per-time bands", "coarser step", "8.6 GB", "--memory-limit")
        # Without bands (no --out) the same run fits.
        p = run("run", s, "--paths", "200", "--threads", "2", "--memory-limit", "8G", "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_memory_limit_option(self):
        p = run("run", reference(), "--paths", "1000", "--memory-limit", "1K")
        self.assert_invalid(p, "more than the limit of 1.0 kB", "set by the memory limit option")
        p = run("run", reference(), "--paths", "1000", "--memory-limit", "lots")
        self.assert_invalid(p, "--memory-limit lots", "K, M, G or T")
        p = run("run", reference(), "--paths", "1000", "--memory-limit", "none", "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)


class LargeMagnitudes(Base):
    def test_sd_and_mean_are_exact_beyond_the_old_fixed_point_range(self):
        # cost_per_gw ~ 5e3 (near the plausibility limit of 1e4 $B/GW; larger values are
        # refused as a likely unit mistake): mean and sd compared with Python's
        # exact-fraction statistics on paths.csv. Values beyond 2^31 (where sd used to be
        # exactly 0) are covered by tests/test_statistics.cpp on the accumulators directly.
        import statistics
        from fractions import Fraction
        s = self.scenario_with("cost_per_gw = { triangular = [40.0, 50.0, 60.0] }",
                               "cost_per_gw = { triangular = [4e3, 5e3, 6e3] }")
        out = os.path.join(self.dir, "out")
        p = run("run", s, "--paths", "500", "--out", out, "--per-path", "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            metrics = json.load(f)["metrics"]
        with open(os.path.join(out, "paths.csv")) as f:
            rows = list(csv.DictReader(f))
        for name in ("capex_total", "funding_gap", "terminal_cash"):
            xs = [Fraction(float(r[name])) for r in rows]
            mean = statistics.mean(xs)
            sd = float(statistics.variance(xs)) ** 0.5
            m = metrics[name]
            self.assertGreater(abs(float(mean)), 1e4, name)
            self.assertLessEqual(abs(m["mean"] - float(mean)), 1e-12 * abs(float(mean)), name)
            self.assertGreater(m["sd"], 0, name)
            self.assertLessEqual(abs(m["sd"] - sd), 1e-12 * sd, name)

    def test_compare_keeps_its_columns_aligned_beyond_1e9(self):
        # fixed opex growing at 0.9 a year for 30 years: a funding gap of ~5.7e12 $B in B.
        # The shared table formatter writes values from 1e9 in magnitude as %.3e, so every
        # numeric column of compare ends where its header does (as run's table does).
        a = self.scenario_with("horizon_years = 10 ", "horizon_years = 30 ", "a.toml")
        with open(a) as f:
            text = f.read()
        b = self.write("b.toml", text.replace("fixed_opex_growth = 0.20 ", "fixed_opex_growth = 0.9 "))
        p = run("compare", a, b, "--paths", "200", "-q")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        head = next(l for l in lines if l.startswith("output "))
        gap = next(l for l in lines if l.startswith("funding_gap "))
        self.assertIn("e+12", gap)  # the value is huge, written in scientific notation
        for column in ("A mean", "B mean", "B - A"):
            end = head.index(column) + len(column)
            self.assertNotEqual(gap[end - 1], " ", (column, gap))
            self.assertEqual(gap[end], " ", (column, gap))
        run_table = run("run", b, "--paths", "200", "-q")
        self.assertEqual(run_table.returncode, 0, run_table.stderr)
        row = next(l for l in run_table.stdout.splitlines() if l.startswith("funding_gap "))
        self.assertIn(gap.split()[3], row.split())  # B's mean: the text run prints


class JointRuns(Base):
    """run --counterparty NAME=lab.toml (docs/model.md §12.6)."""

    def test_joint_run_and_its_refusals(self):
        prov = os.path.join(SRC, "scenarios", "oracle-side.toml")
        lab = os.path.join(SRC, "scenarios", "ai-lab-2026.toml")
        with open(lab) as f:
            shorter = self.write("short-lab.toml",
                                 f.read().replace("horizon_years = 10", "horizon_years = 8"))
        p = run("run", prov, "--paths", "300", "--counterparty", f"oracle={lab}")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("received_oracle", p.stdout)
        for bad, words in ((f"azure={lab}", 'no [[revenue_contract]] named "azure"'),
                           ("oracle=" + os.path.join(SRC, "scenarios", "neocloud.toml"),
                            'no [[contract]] named "oracle"'),
                           ("oracle", "expected NAME=lab.toml"),
                           ("oracle=" + shorter, "a joint run needs one time grid")):
            q = run("run", prov, "--paths", "10", "--counterparty", bad)
            self.assertEqual(q.returncode, 2, (bad, q.stdout, q.stderr))
            self.assertIn(words, q.stderr)

    def compare_row(self, stdout, name):
        """(A mean, B mean, B - A) of an output's row in compare's table, as printed."""
        for line in stdout.splitlines():
            cells = line.split()
            if cells and cells[0] == name:
                return cells[2], cells[3], cells[4]
        self.fail(f"no row {name} in:\n{stdout}")

    def test_compare_with_counterparties(self):
        """compare --counterparty / --counterparty-a / -b (issue 23): each joint side gives
        the numbers of `run --counterparty` with the same seed and paths."""
        prov = os.path.join(SRC, "scenarios", "oracle-side.toml")
        lab = os.path.join(SRC, "scenarios", "ai-lab-2026-stress.toml")
        common = ["--paths", "2000", "--seed", "5", "--quiet"]

        def means(*extra):
            out = os.path.join(self.dir, "run-" + str(len(extra)))
            p = run("run", prov, *common, "--out", out, *extra)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "summary.json")) as f:
                return json.load(f)["metrics"]

        joint, alone = means("--counterparty", f"oracle={lab}"), means()
        p = run("compare", prov, prov, *common, "--counterparty-a", f"oracle={lab}")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("A joint run: revenue contract oracle paid by " + lab, p.stdout)
        self.assertNotIn("B joint run", p.stdout)
        for name in ("received_oracle", "funding_gap", "terminal_cash"):
            a, b, d = self.compare_row(p.stdout, name)
            decimals = len(a.split(".")[1]) if "." in a else 0
            self.assertEqual(a, f"{joint[name]['mean']:.{decimals}f}", name)
            self.assertEqual(b, f"{alone[name]['mean']:.{decimals}f}", name)
        self.assertNotEqual(*self.compare_row(p.stdout, "received_oracle")[:2])
        # --counterparty-b: the other way round.
        q = run("compare", prov, prov, *common, "--counterparty-b", f"oracle={lab}")
        self.assertEqual(q.returncode, 0, q.stderr)
        a, b, _ = self.compare_row(q.stdout, "received_oracle")
        self.assertEqual((b, a), self.compare_row(p.stdout, "received_oracle")[:2])
        # --counterparty: both sides that have the contract; B - A is then exactly 0.
        q = run("compare", prov, prov, *common, "--counterparty", f"oracle={lab}")
        self.assertEqual(q.returncode, 0, q.stderr)
        a, b, d = self.compare_row(q.stdout, "received_oracle")
        self.assertEqual((a, b), (self.compare_row(p.stdout, "received_oracle")[0],) * 2)
        self.assertEqual(float(d), 0.0)
        # ... and only those: a B without the revenue contract runs alone.
        q = run("compare", prov, reference(), "--paths", "300", "--quiet", "--counterparty",
                f"oracle={lab}")
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertIn("A joint run", q.stdout)
        self.assertNotIn("B joint run", q.stdout)

    def test_compare_counterparty_refusals(self):
        prov = os.path.join(SRC, "scenarios", "oracle-side.toml")
        lab = os.path.join(SRC, "scenarios", "ai-lab-2026-stress.toml")
        with open(lab) as f:
            shorter = self.write("short-lab.toml",
                                 f.read().replace("horizon_years = 10", "horizon_years = 8"))
        neo = os.path.join(SRC, "scenarios", "neocloud.toml")
        cases = (
            ([prov, prov, "--counterparty", f"azure={lab}"], ['"azure"', "neither A"]),
            ([prov, prov, "--counterparty-a", f"azure={lab}"],
             ["--counterparty-a", 'no [[revenue_contract]] named "azure"']),
            ([prov, reference(), "--counterparty-b", f"oracle={lab}"],
             ["--counterparty-b", 'no [[revenue_contract]] named "oracle"']),
            ([prov, prov, "--counterparty-b", f"oracle={neo}"],
             ["--counterparty-b", 'no [[contract]] named "oracle"']),
            ([prov, prov, "--counterparty", "oracle"], ["--counterparty oracle", "expected NAME=lab.toml"]),
            ([prov, prov, "--counterparty-a", "=x.toml"], ["--counterparty-a", "expected NAME=lab.toml"]),
            ([prov, prov, "--counterparty", f"oracle={shorter}"],
             ["--counterparty oracle=", "a joint run needs one time grid"]),
        )
        for args, words in cases:
            with self.subTest(args=args[2:]):
                q = run("compare", *args, "--paths", "10", "--quiet")
                self.assertEqual(q.returncode, 2, (q.stdout, q.stderr))
                self.assertTrue(q.stderr.startswith("capexsim: error: "), q.stderr)
                for w in words:
                    self.assertIn(w, q.stderr)

if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
