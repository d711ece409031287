"""Reliability on the command line (issue 26): the --out folder against planted links,
sets of regular files (an earlier version's, or copied in) under injected errors and
kills, the lock; oversized scenario files; crafted shard files; names that become columns.

Run by ctest as: python3 test_cli_reliability.py CAPEXSIM_BINARY SOURCE_DIR
Standard library only. The fault-injection cases use `strace -e inject` and are skipped
where strace is missing or cannot trace (scripts/install-deps.sh installs it).
"""
import json
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


class ScenarioFiles(Base):
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


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
