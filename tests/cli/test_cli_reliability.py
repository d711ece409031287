"""Reliability on the command line (issue 26): the --out folder against planted links,
sets of regular files (an earlier version's, or copied in) under injected errors and
kills, the lock; oversized scenario files; crafted shard files; names that become columns.

Run by ctest as: python3 test_cli_reliability.py CAPEXSIM_BINARY SOURCE_DIR
Standard library only. The fault-injection cases use `strace -e inject` and are skipped
where strace is missing or cannot trace (scripts/install-deps.sh installs it).
"""
import json
import resource
import struct
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

BIN = None
SRC = None
NAMES = ("summary.json", "bands.csv", "paths.csv")


def run(*args, timeout=300, **kw):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout, **kw)


def reference():
    return os.path.join(SRC, "scenarios", "ai-lab-2025.toml")


def read_set(out):
    """The files an --out folder shows, as {name: bytes}, read through the names."""
    files = {}
    for name in NAMES:
        path = os.path.join(out, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                files[name] = f.read()
    return files


def tree(path):
    """Every file under `path` (links not followed) with its bytes or link target."""
    found = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            if os.path.islink(p):
                found[os.path.relpath(p, path)] = "-> " + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    found[os.path.relpath(p, path)] = f.read()
    return found


def strace_works():
    if shutil.which("strace") is None:
        return False
    p = subprocess.run(["strace", "-f", "-o", "/dev/null", "-e", "inject=symlinkat:error=ENOSPC:when=1",
                        "true"], capture_output=True)
    return p.returncode == 0


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.out = os.path.join(self.dir, "out")

    def tearDown(self):
        self.tmp.cleanup()

    def run_into(self, *extra, paths="500", seed="1", prefix=()):
        cmd = [*prefix, BIN, "run", reference(), "--paths", paths, "--seed", seed, "--out", self.out,
               "--quiet", "--threads", "1", *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    def assert_invalid(self, proc, *fragments):
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertTrue(proc.stderr.startswith("capexsim: error: "), proc.stderr)
        for f in fragments:
            self.assertIn(f, proc.stderr)

    def assert_complete(self, files, seed=None):
        """One run's set: summary.json's run_id and manifest match the other files."""
        s = json.loads(files["summary.json"])
        if seed is not None:
            self.assertEqual(s["seed"], seed)
        self.assertEqual(os.readlink(os.path.join(self.out, ".capexsim", "current")), s["run_id"])
        self.assertEqual(set(s["files"]) | {"summary.json"}, set(files))
        for name, meta in s["files"].items():
            self.assertEqual(len(files[name]), meta["bytes"], name)
        return s

    def victim(self):
        """A folder outside --out with a file in it, and its contents."""
        v = os.path.join(self.dir, "victim")
        os.makedirs(os.path.join(v, "sub"), exist_ok=True)
        with open(os.path.join(v, "sub", "precious.txt"), "w") as f:
            f.write("keep me\n")
        return v, tree(v)


class PlantedLinks(Base):
    """Links planted in the folder are refused, never followed (issue 26, items 1 and 2)."""

    def test_current_pointing_outside_is_refused_and_nothing_is_deleted(self):
        self.assertEqual(self.run_into().returncode, 0)
        before = read_set(self.out)
        v, v_tree = self.victim()
        current = os.path.join(self.out, ".capexsim", "current")
        live = os.readlink(current)
        for target in (v, "..", ".", "../..", "sub/../" + live, live + "/"):
            os.unlink(current)
            os.symlink(target, current)
            p = self.run_into(seed="2")
            self.assert_invalid(p, "current", "points at '%s'" % target, "not at a run folder")
            self.assertEqual(tree(v), v_tree, target)
            self.assertTrue(os.path.isdir(os.path.join(self.out, ".capexsim", live)), target)
        os.unlink(current)
        os.symlink(live, current)
        self.assertEqual(read_set(self.out), before)
        # Restored, the folder works again.
        self.assertEqual(self.run_into(seed="3").returncode, 0)
        self.assert_complete(read_set(self.out), seed=3)

    def test_current_to_a_link_inside_the_folder_is_refused(self):
        self.assertEqual(self.run_into().returncode, 0)
        v, v_tree = self.victim()
        meta = os.path.join(self.out, ".capexsim")
        os.symlink(v, os.path.join(meta, "elsewhere"))
        os.unlink(os.path.join(meta, "current"))
        os.symlink("elsewhere", os.path.join(meta, "current"))
        self.assert_invalid(self.run_into(seed="2"), "points at 'elsewhere'")
        self.assertEqual(tree(v), v_tree)

    def test_a_link_in_the_meta_folder_is_removed_not_followed(self):
        # A killed run's leftovers are removed; a link among them goes, its target stays.
        self.assertEqual(self.run_into().returncode, 0)
        v, v_tree = self.victim()
        os.symlink(v, os.path.join(self.out, ".capexsim", "20000101T000000Z-1-deadbeef"))
        self.assertEqual(self.run_into(seed="2").returncode, 0)
        self.assertEqual(tree(v), v_tree)
        self.assertFalse(os.path.lexists(os.path.join(self.out, ".capexsim", "20000101T000000Z-1-deadbeef")))

    def test_meta_folder_as_a_link_is_refused(self):
        v, v_tree = self.victim()
        os.makedirs(self.out)
        os.symlink(v, os.path.join(self.out, ".capexsim"))
        p = self.run_into()
        self.assert_invalid(p, ".capexsim is not a folder", "capexsim did not make it")
        self.assertEqual(tree(v), v_tree)

    def test_lock_as_a_link_is_refused_and_its_target_untouched(self):
        self.assertEqual(self.run_into().returncode, 0)
        target = os.path.join(self.dir, "important.txt")
        with open(target, "w") as f:
            f.write("not a pid\n")
        lock = os.path.join(self.out, ".capexsim", "lock")
        os.unlink(lock)
        os.symlink(target, lock)
        self.assert_invalid(self.run_into(seed="2"), "lock is a symbolic link")
        # A dangling link must not create its target either.
        os.unlink(lock)
        os.symlink(os.path.join(self.dir, "created.txt"), lock)
        self.assert_invalid(self.run_into(seed="2"), "lock is a symbolic link")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "created.txt")))
        # A hard link to another file is refused as well.
        os.unlink(lock)
        os.link(target, lock)
        self.assert_invalid(self.run_into(seed="2"), "lock is not a plain file of its own")
        with open(target) as f:
            self.assertEqual(f.read(), "not a pid\n")

    def test_a_name_linked_elsewhere_is_refused(self):
        self.assertEqual(self.run_into().returncode, 0)
        target = os.path.join(self.dir, "mine.json")
        with open(target, "w") as f:
            f.write("{}\n")
        os.unlink(os.path.join(self.out, "summary.json"))
        os.symlink(target, os.path.join(self.out, "summary.json"))
        self.assert_invalid(self.run_into(seed="2"), "summary.json is a symbolic link to '%s'" % target,
                            "not capexsim's link")
        with open(target) as f:
            self.assertEqual(f.read(), "{}\n")


class LegacySets(Base):
    """Regular files at the names (issue 26, item 3)."""

    def make_legacy(self):
        """A folder holding a set as regular files, copied out of a real run."""
        src = os.path.join(self.dir, "src")
        p = run("run", reference(), "--paths", "300", "--seed", "1", "--out", src, "--per-path", "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        os.makedirs(self.out)
        for n in NAMES:
            shutil.copyfile(os.path.join(src, n), os.path.join(self.out, n))
        return read_set(self.out)

    def test_legacy_set_is_adopted_then_replaced(self):
        before = self.make_legacy()
        # A run without --per-path: the new set replaces all three names (paths.csv goes).
        self.assertEqual(self.run_into(seed="2").returncode, 0)
        self.assert_complete(read_set(self.out), seed=2)
        self.assertFalse(os.path.lexists(os.path.join(self.out, "paths.csv")))
        self.assertNotEqual(read_set(self.out), before)

    def test_refused_run_leaves_a_legacy_set_as_regular_files(self):
        before = self.make_legacy()
        p = self.run_into("--memory-limit", "1K")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(read_set(self.out), before)
        for n in NAMES:
            self.assertFalse(os.path.islink(os.path.join(self.out, n)))

    def check_faults(self, syscalls, action, max_when):
        """Inject `action` at the Nth call of each syscall; after each run the folder shows
        the legacy set or a complete new one, and a non-zero exit means the legacy set."""
        if not strace_works():
            self.skipTest("strace is missing or cannot trace here")
        failures = 0
        for syscall in syscalls:
            for when in range(1, max_when + 1):
                shutil.rmtree(self.out, ignore_errors=True)
                before = self.make_legacy()
                prefix = ["strace", "-f", "-o", "/dev/null", "-e",
                          "inject=%s:%s:when=%d" % (syscall, action, when)]
                p = self.run_into("--per-path", seed="7", prefix=prefix)
                case = "%s %s at call %d: rc %d %s" % (syscall, action, when, p.returncode, p.stderr)
                files = read_set(self.out)
                if p.returncode == 0:
                    self.assert_complete(files, seed=7)
                    continue
                failures += 1
                if files != before:
                    self.assert_complete(files, seed=7)  # killed after the switch
                if action.startswith("error"):
                    self.assertEqual(files, before, case)
                    self.assertEqual(p.returncode, 2, case)
                # And the next run recovers the folder.
                self.assertEqual(self.run_into(seed="8").returncode, 0, case)
                self.assert_complete(read_set(self.out), seed=8)
        self.assertGreater(failures, 0, "no injected fault hit the run")

    def test_legacy_set_under_injected_errors(self):
        self.check_faults(["symlinkat", "renameat", "linkat", "fsync", "mkdirat"], "error=ENOSPC", 6)

    def test_legacy_set_under_kills(self):
        self.check_faults(["symlinkat", "renameat", "linkat", "fsync", "unlinkat"], "signal=KILL", 6)


TINY = """[simulation]
start = 2026.0
horizon_years = 1
step = "quarter"
[build]
initial_gw = 1.0
max_pace_gw_per_week = 0.1
ramp_midpoint_years = 1.0
ramp_width_years = 0.5
lead_time_years = 1.0
[cost]
cost_per_gw = 40.0
it_share = 0.6
useful_life_years = 5.0
[revenue]
arr0 = 10.0
growth0 = 0.3
arr_per_gw = 10.0
"""


def fnv1a(data):
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


class ShardLayout:
    """Offsets of the fields of a result.bin (cli/shard.hpp, Result::to_bytes)."""

    def __init__(self, data):
        self.data = data
        self.at = 12  # magic, format version
        for _ in range(4):
            self.string()
        self.at += 6 * 8
        self.string()
        self.at += 1 + 4 + 8
        for _ in range(self.u64()):  # thresholds (format version 2): name, values
            self.string()
            self.at += 8 * self.u64()
        self.payload_len = self.at
        self.at += 8
        self.payload = self.at
        self.at += 8
        self.string()
        self.string()
        self.paths = self.at + 16
        self.at += 3 * 8 + 4 + 8 + 8
        self.output_count = self.at
        k = self.u64()
        self.names = []
        for _ in range(k):
            self.names.append(self.at)
            self.string()
        for _ in range(self.u64()):
            self.string()
        self.rows = self.at
        rows, cols = struct.unpack_from("<qq", data, self.at)
        self.at += 16
        self.first_value = self.at
        self.at += 8 * rows * cols
        # The first output's accumulator.
        self.acc_counts = self.at
        self.at += 5 * 8
        self.sum_acc = self.at
        self.at += 16 + 8
        self.at += 8 + 8 * self.u64()
        self.at += 16 + 8
        self.at += 8 + 8 * self.u64()
        self.sketch_pos = self.at
        n_pos = self.u64()
        self.at += 8 * n_pos
        self.at += 8 + 8 * self.u64()
        self.pos_lo = self.at

    def u64(self):
        v = struct.unpack_from("<Q", self.data, self.at)[0]
        self.at += 8
        return v

    def string(self):
        n = self.u64()
        self.at += n


def with_checksum(body):
    return body + struct.pack("<Q", fnv1a(body))


class CraftedShards(Base):
    """Issue 26, item 7: every length and offset read from result.bin is bounded by the
    bytes before anything is allocated, and a shard's statistics must be those of its
    per-path values. Each crafted file carries a valid checksum."""

    def shard(self, k):
        s = os.path.join(self.dir, "tiny.toml")
        with open(s, "w") as f:
            f.write(TINY)
        d = os.path.join(self.dir, "shard%d" % k)
        p = run("run", s, "--paths", "6", "--shard", "%d/2" % k, "--out", d, "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        return d

    def crafted(self, edit):
        a, b = self.shard(1), self.shard(2)
        with open(os.path.join(a, "result.bin"), "rb") as f:
            data = bytearray(f.read())
        body = data[:-8]
        layout = ShardLayout(bytes(body))
        edit(body, layout)
        with open(os.path.join(a, "result.bin"), "wb") as f:
            f.write(with_checksum(bytes(body)))
        return a, b

    def assert_refused(self, edit, *fragments):
        a, b = self.crafted(edit)

        def limit():  # an unbounded allocation fails fast instead of swapping
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

        t0 = time.time()
        p = run("merge", a, b, "--out", os.path.join(self.dir, "merged"), preexec_fn=limit)
        self.assertLess(time.time() - t0, 10)
        self.assert_invalid(p, "result.bin: not a readable capexsim shard", *fragments)
        self.assertNotIn("memory", p.stderr)

    def test_genuine_shards_merge(self):
        a, b = self.crafted(lambda body, l: None)
        p = run("merge", a, b, "--out", os.path.join(self.dir, "merged"))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_sketch_offset_far_away(self):
        # A sketch range at key 2^31 would make the merge allocate 16 GB.
        self.assert_refused(lambda body, l: struct.pack_into("<q", body, l.pos_lo, 1 << 31),
                            "quantile sketch's bucket range")

    def test_huge_counts(self):
        self.assert_refused(lambda body, l: struct.pack_into("<Q", body, l.output_count, 1 << 40),
                            "output count")
        self.assert_refused(lambda body, l: struct.pack_into("<q", body, l.rows, 1 << 40),
                            "per-path shape")
        self.assert_refused(lambda body, l: struct.pack_into("<Q", body, l.sketch_pos, 1 << 60),
                            "truncated")

    def test_sum_beyond_its_paths(self):
        # int128 near its maximum: two of them overflow when merged (UBSan).
        def edit(body, l):
            struct.pack_into("<QQ", body, l.sum_acc, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF)
        self.assert_refused(edit, "a sum beyond what its paths can add up to")

    def test_counts_that_do_not_add_up(self):
        self.assert_refused(lambda body, l: struct.pack_into("<Q", body, l.acc_counts + 8, 7),
                            "an output's counts or range")

    def test_edited_value_is_not_merged_silently(self):
        def edit(body, l):
            v = struct.unpack_from("<d", body, l.first_value)[0]
            struct.pack_into("<d", body, l.first_value, v * 2 + 1)
        self.assert_refused(edit, "do not match its per-path values")

    def test_output_name_that_would_corrupt_csv(self):
        def edit(body, l):
            at = l.names[0] + 8
            n = struct.unpack_from("<Q", body, l.names[0])[0]
            body[at:at + n] = (b"a,b" + b"_" * n)[:n]
        self.assert_refused(edit, "is not a capexsim output name")



class Names(Base):
    """Issue 26, item 6: a contract named "a,b" wrote 33 header columns over 32 data
    columns in paths.csv. Names that become output, column or key parts are refused."""

    def test_names_that_would_corrupt_files_are_refused(self):
        with open(reference()) as f:
            text = f.read()
        line = text.splitlines().index('name = "azure"') + 1
        for bad, shown in (("a,b", "a,b"), ("a\\nb", "a\\nb"), ("a.b", "a.b"), ('a\\"b', 'a\\"b'),
                           ("-x", "-x"), ("x" * 65, "x" * 65)):
            s = os.path.join(self.dir, "s.toml")
            with open(s, "w") as f:
                f.write(text.replace('name = "azure"', 'name = "%s"' % bad, 1))
            p = run("check", s)
            self.assert_invalid(p, "%s:%d" % (s, line), "contract[0].name",
                                "letters, digits, '_' and '-'", 'got "%s"' % shown)
        # Names as the defaults write them, and ones with '_', are accepted.
        for good in ("contract-7", "big_lab", "A1"):
            with open(s, "w") as f:
                f.write(text.replace('name = "azure"', 'name = "%s"' % good, 1))
            self.assertEqual(run("check", s).returncode, 0, good)


class SensitivityMemory(Base):
    """Issue 26, item 5: sobol -n 1e8 allocated 2 x 8.8 GB for 10 minutes (bad_alloc with
    --over-time); now the analysis is refused up front by its estimate."""

    def test_sobol_refused_by_its_estimate_before_running(self):
        for extra, fragment in (([], "runs x 100000000 paths x 8 bytes"),
                                (["--over-time", "cash"], "checkpoint years")):
            t0 = time.time()
            p = run("sensitivity", reference(), "--method", "sobol", "-n", "1e8", "--memory-limit", "4G",
                    "--out", os.path.join(self.dir, "o"), *extra)
            self.assertLess(time.time() - t0, 5)
            self.assert_invalid(p, "sensitivity --method sobol needs about", "GB of memory",
                                "more than the limit of 4.3 GB (set by --memory-limit)", fragment,
                                "Use fewer --paths")
            self.assertFalse(os.path.exists(os.path.join(self.dir, "o")), "the folder was touched")

    def test_tornado_and_rank_estimates(self):
        p = run("sensitivity", reference(), "--method", "tornado", "-n", "1e8", "--memory-limit", "1G")
        self.assert_invalid(p, "sensitivity --method tornado needs about", "runs x 100000000 paths")
        p = run("sensitivity", reference(), "--method", "rank", "-n", "1e8", "--memory-limit", "1G")
        self.assert_invalid(p, "sensitivity --method rank needs about", "drawn inputs")
        p = run("sensitivity", reference(), "--method", "sobol", "-n", "1e8", "--shard", "1/4",
                "--memory-limit", "1G", "--out", os.path.join(self.dir, "o"))
        self.assert_invalid(p, "3 times over (the samples and the shard's bytes)", "25000000 paths")

    def test_small_analyses_run_and_the_option_is_checked(self):
        p = run("sensitivity", reference(), "--method", "rank", "-n", "2000", "--memory-limit", "none",
                "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run("sensitivity", reference(), "--method", "rank", "-n", "2000", "--memory-limit", "banana")
        self.assert_invalid(p, "--memory-limit banana", "expected a size in bytes")


class ShardOptions(Base):
    def test_shard_checks_the_memory_limit(self):
        # Issue 26, item 8: run --shard ignored --memory-limit (even "banana").
        d = os.path.join(self.dir, "s1")
        p = run("run", reference(), "--paths", "1000", "--shard", "1/2", "--out", d, "--memory-limit", "banana")
        self.assert_invalid(p, "--memory-limit banana")
        p = run("run", reference(), "--paths", "1000", "--shard", "1/2", "--out", d, "--memory-limit", "1K")
        self.assert_invalid(p, "more than the limit of 1.0 kB")
        self.assertFalse(os.path.exists(d))

    def test_a_killed_shards_temporary_file_is_removed(self):
        d = os.path.join(self.dir, "s1")
        os.makedirs(d)
        stale = os.path.join(d, ".result.bin.tmp-Ab12Cd")
        with open(stale, "wb") as f:
            f.write(b"x" * 1000)
        p = run("run", reference(), "--paths", "100", "--shard", "1/2", "--out", d, "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(os.listdir(d)), ["result.bin"])


class Overflow(Base):
    """Issue 26, item 9: cost_drift = 100 (inside the plausibility limit) gave NaN
    capex_total and terminal_cash on every path and a 5e304 funding gap, with no word."""

    def test_overflowed_outputs_are_named(self):
        # cost_drift = 100 is now refused up front as a percent (docs/model.md §13.6), which
        # is the first half of the fix: the input that overflowed no longer runs.
        with open(reference()) as f:
            text = f.read()
        s = os.path.join(self.dir, "s.toml")
        with open(s, "w") as f:
            f.write(text.replace("cost_drift = 0.0 ", "cost_drift = 100 ", 1))
        p = run("run", s, "--paths", "200", "--out", self.out, "--quiet")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("cost.cost_drift: got 100.0, which looks like a percent", p.stderr)
        # The reference scenario overflows nothing: no warning, no key.
        p = run("run", reference(), "--paths", "200", "--out", self.out, "--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        with open(os.path.join(self.out, "summary.json")) as f:
            self.assertNotIn("overflowed", json.load(f))


class ScenarioFiles(Base):
    def test_a_huge_horizon_reports_its_step_count(self):
        # Issue 26, item 10: horizon_years = 1e300 reported "got 100001 steps".
        with open(reference()) as f:
            text = f.read()
        s = os.path.join(self.dir, "s.toml")
        with open(s, "w") as f:
            f.write(text.replace("horizon_years = 10 ", "horizon_years = 1e300 ", 1))
        p = run("check", s)
        self.assert_invalid(p, "simulation.horizon_years")
        self.assertNotIn("100001", p.stderr)
        self.assertIn("years of months)", p.stderr)

    def test_huge_sparse_scenario_is_refused_at_once(self):
        # Issue 26, item 4: a 20 GB sparse file took 56 s and 2.1 GB to be refused.
        big = os.path.join(self.dir, "big.toml")
        with open(big, "wb") as f:
            f.truncate(20 << 30)
        for cmd in (["check", big], ["run", big, "--paths", "10"]):
            t0 = time.time()
            p = run(*cmd)
            self.assertLess(time.time() - t0, 1.0)
            self.assert_invalid(p, big, "21474836480 bytes", "expected at most 16777216")

    def test_a_file_just_over_the_limit_is_refused(self):
        s = os.path.join(self.dir, "s.toml")
        with open(s, "w") as f:
            f.write("#" * ((16 << 20) + 1))
        self.assert_invalid(run("check", s), "16777217 bytes")


class SensitivityShards(Base):
    """Issue 26: a merged sensitivity.json lacked the single analysis's wall_seconds and
    tornado's vary."""

    def analysis(self, name, *args, shard=None):
        out = os.path.join(self.dir, name)
        extra = ["--shard", shard] if shard else []
        p = run("sensitivity", reference(), *args, "--out", out, "--quiet", "--threads", "1", *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        return out

    def meta(self, out):
        with open(os.path.join(out, "sensitivity.json")) as f:
            return json.load(f)

    def test_merged_json_has_the_single_analysis_fields(self):
        for method, args in (("tornado", ["--paths", "600", "--vary", "build.plan_cap_gw=20:40"]),
                             ("sobol", ["--paths", "96", "--bootstrap", "100"])):
            args = ["--method", method, *args]
            single = self.meta(self.analysis(method + "-one", *args))
            shards = [self.analysis("%s%d" % (method, k), *args, shard="%d/2" % k) for k in (1, 2)]
            out = os.path.join(self.dir, method + "-merged")
            p = run("merge", *shards, "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            merged = self.meta(out)
            self.assertEqual(sorted(set(single) - set(merged)), [])
            self.assertEqual(sorted(set(merged) - set(single)), ["shards"])
            self.assertGreater(merged["wall_seconds"], 0)
            if method == "tornado":
                self.assertEqual(merged["vary"], ["build.plan_cap_gw=20:40"])
            for key in single:
                if key not in ("wall_seconds", "run_id"):
                    self.assertEqual(merged[key], single[key], key)
        # Tornado shards with different --vary are not shards of one analysis.
        other = self.analysis("tornado-other", "--method", "tornado", "--paths", "600", "--vary",
                              "build.plan_cap_gw=20:30", shard="2/2")
        p = run("merge", os.path.join(self.dir, "tornado1"), other, "--out", os.path.join(self.dir, "x"))
        self.assert_invalid(p, "is not of the same analysis", "--vary differ")

    def test_a_version_1_shard_is_refused_with_what_to_do(self):
        d = self.analysis("t1", "--method", "tornado", "--paths", "300", shard="1/2")
        path = os.path.join(d, "sensitivity.bin")
        with open(path, "rb") as f:
            data = f.read()
        body = bytearray(data[:-8])
        struct.pack_into("<I", body, 8, 1)
        with open(path, "wb") as f:
            f.write(with_checksum(bytes(body)))
        d2 = self.analysis("t2", "--method", "tornado", "--paths", "300", shard="2/2")
        p = run("merge", d, d2, "--out", os.path.join(self.dir, "x"))
        self.assert_invalid(p, "sensitivity shard format version 1; this capexsim reads version 2",
                            "rerun the shard")


# capacity_end of ai-lab-2025 is the plan's cap, 30 GW, on every path (up to rounding:
# 29.999999999999993 to 30.000000000000007).
CONSTANT, CONSTANT_VALUE = "capacity_end", "30"


class UndefinedStatistics(Base):
    """Issue 26: a target on an output undefined on every path ran to 1e7 paths; rank
    measures of a constant output reported rounding noise; calibrate on a constant
    statistic printed "± -" and exited 0."""

    def test_target_on_an_output_undefined_on_every_path_stops_at_once(self):
        # A lab with cash enough for every path: it never runs short, gap_time is NaN.
        with open(reference()) as f:
            text = f.read()
        self.assertIn("initial_cash = 40.0", text)
        rich = os.path.join(self.dir, "rich.toml")
        with open(rich, "w") as f:
            f.write(text.replace("initial_cash = 40.0", "initial_cash = 90000.0", 1))
        t0 = time.time()
        p = run("run", rich, "--target", "gap_time.mean:1%", "--threads", "1", "--quiet")
        self.assertLess(time.time() - t0, 60)
        self.assert_invalid(p, "--target: target gap_time.mean:1.0%", "gap_time is undefined (NaN) on every one of the 10000 paths run",
                            "target gap_time.nan_share")
        self.assertNotIn("NOT reached", p.stdout)

    def test_rank_of_a_constant_output_says_so(self):
        p = run("sensitivity", reference(), "--method", "rank", "--output", CONSTANT, "--paths", "2000",
                "--quiet", "--threads", "1")
        self.assert_invalid(p, "output '%s' is the same on every path" % CONSTANT, "no input can explain it")

    def test_calibrate_on_a_constant_statistic_is_refused(self):
        p = run("calibrate", reference(), "--vary", "revenue.growth0=0.3:1.5", "--target",
                CONSTANT + ".p50=" + CONSTANT_VALUE, "--paths", "2000", "--quiet", "--threads", "1")
        self.assert_invalid(p, "at both ends of revenue.growth0 in [0.3, 1.5]", "nothing to calibrate")
        self.assertNotIn("± -", p.stdout)


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
