"""End-to-end tests of `capexsim run --shard K/N` and `capexsim merge`.

Run by ctest as: python3 test_shards.py CAPEXSIM_BINARY SOURCE_DIR
Standard library only (unittest). result.bin is read and rewritten here from its documented
layout (cli/shard.hpp), to forge shards that differ in one field only.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

BIN = None
SRC = None


def run(*args, timeout=300):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


def scenario(name="ai-lab-2025"):
    return os.path.join(SRC, "scenarios", name + ".toml")


# -- result.bin, format version 2 --------------------------------------------------------
# "t": the thresholds, u64 count then (string output, u64 n, n f64) each; kept as a list of
# (name, [values]).
FIELDS = [("version", "s"), ("scenario_name", "s"), ("scenario_hash", "s"), ("scenario_file", "s"),
          ("seed", "Q"), ("k", "Q"), ("n", "Q"), ("first_path", "Q"), ("paths", "Q"),
          ("total_paths", "Q"), ("design", "s"), ("per_path", "B"), ("threads", "i"),
          ("wall_seconds", "d"), ("thresholds", "t"), ("payload", "s")]


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def decode(data):
    assert data[:8] == b"CAPXSHRD"
    (fmt,) = struct.unpack_from("<I", data, 8)
    at, out = 12, {"format": fmt}
    for name, kind in FIELDS:
        if kind == "s":
            (n,) = struct.unpack_from("<Q", data, at)
            out[name] = data[at + 8:at + 8 + n]
            at += 8 + n
        elif kind == "t":
            (count,) = struct.unpack_from("<Q", data, at)
            at += 8
            out[name] = []
            for _ in range(count):
                (n,) = struct.unpack_from("<Q", data, at)
                output = data[at + 8:at + 8 + n].decode()
                at += 8 + n
                (m,) = struct.unpack_from("<Q", data, at)
                out[name].append((output, list(struct.unpack_from("<%dd" % m, data, at + 8))))
                at += 8 + 8 * m
        else:
            (out[name],) = struct.unpack_from("<" + kind, data, at)
            at += struct.calcsize(kind)
    (out["checksum"],) = struct.unpack_from("<Q", data, at)
    assert at + 8 == len(data)
    return out


def encode(h):
    body = b"CAPXSHRD" + struct.pack("<I", h["format"])
    for name, kind in FIELDS:
        v = h[name]
        if kind == "s":
            body += struct.pack("<Q", len(v)) + v
        elif kind == "t":
            body += struct.pack("<Q", len(v))
            for output, values in v:
                body += struct.pack("<Q", len(output)) + output.encode()
                body += struct.pack("<Q%dd" % len(values), len(values), *values)
        else:
            body += struct.pack("<" + kind, v)
    return body + struct.pack("<Q", fnv1a(body))


class Shards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        # One single run and its three shards, with per-path output; 1000 / 3 = 334 + 333 + 333.
        # The shards' thread counts differ (1, 2, 1): results do not depend on them, and
        # summary.json records shard 1's --threads, here the single run's.
        cls.single = cls.run_ok("run", scenario(), "--paths", "1000", "--seed", "7", "--per-path",
                                "--out", cls.path("single"), "-q", "--threads", "1")
        cls.shards = [cls.path("s%d" % k) for k in (1, 2, 3)]
        for k, d in enumerate(cls.shards, 1):
            cls.run_ok("run", scenario(), "--paths", "1000", "--seed", "7", "--per-path",
                       "--shard", "%d/3" % k, "--out", d, "-q", "--threads", str(2 - k % 2))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def path(cls, *names):
        return os.path.join(cls.dir, *names)

    @classmethod
    def run_ok(cls, *args):
        p = run(*args)
        if p.returncode != 0:
            raise AssertionError("%s -> %d\n%s" % (args, p.returncode, p.stderr))
        return p

    def read(self, *names):
        with open(self.path(*names), "rb") as f:
            return f.read()

    def assert_same_files(self, a, b, files):
        # Output folders also hold the output set's bookkeeping (.capexsim, docs/cli.md).
        listed = lambda d: sorted(n for n in os.listdir(self.path(d)) if n != ".capexsim")
        self.assertEqual(listed(a), sorted(files))
        self.assertEqual(listed(b), sorted(files))
        for f in files:
            x, y = self.read(a, f), self.read(b, f)
            if f == "summary.json":
                # Byte-identical except the wall time and the output set's run id.
                strip = lambda t: [l for l in t.splitlines()
                                   if b'"wall_time_s"' not in l and b'"run_id"' not in l]
                self.assertEqual(strip(x), strip(y))
                self.assertEqual(len(x.splitlines()), len(strip(x)) + 2)
            else:
                self.assertEqual(x, y, f)

    def assert_refused(self, proc, *fragments):
        self.assertEqual(proc.returncode, 2, proc.stderr + proc.stdout)
        self.assertTrue(proc.stderr.startswith("capexsim: error: "), proc.stderr)
        for f in fragments:
            self.assertIn(f, proc.stderr)
        self.assertNotIn("terminate called", proc.stderr)

    def forged(self, name, source, **changes):
        """A copy of shard folder `source` whose result.bin differs in `changes`."""
        h = decode(self.read(source, "result.bin"))
        h.update(changes)
        os.makedirs(self.path(name), exist_ok=True)
        with open(self.path(name, "result.bin"), "wb") as f:
            f.write(encode(h))
        return self.path(name)

    # -- the shards ------------------------------------------------------------------------
    def test_shard_files_hold_contiguous_even_ranges(self):
        heads = [decode(self.read("s%d" % k, "result.bin")) for k in (1, 2, 3)]
        self.assertEqual([(h["first_path"], h["paths"]) for h in heads], [(0, 334), (334, 333), (667, 333)])
        for k, h in enumerate(heads, 1):
            self.assertEqual((h["format"], h["k"], h["n"], h["total_paths"], h["seed"]), (2, k, 3, 1000, 7))
            self.assertEqual(h["design"], b"random")
            self.assertEqual(h["per_path"], 1)
            self.assertEqual(h["checksum"], fnv1a(self.read("s%d" % k, "result.bin")[:-8]))
        self.assertEqual(os.listdir(self.path("s2")), ["result.bin"])

    def test_merged_shards_equal_the_single_run(self):
        # In any order on the command line.
        p = self.run_ok("merge", self.shards[2], self.shards[0], self.shards[1], "--out", self.path("m"))
        self.assertIn("1,000 paths, seed 7", p.stdout)
        self.assertEqual(p.stdout.split("\n\n")[1], self.single.stdout.split("\n\n")[1])  # the table
        self.assert_same_files("m", "single", ["summary.json", "bands.csv", "paths.csv"])

    def test_without_per_path_and_with_one_shard(self):
        self.run_ok("run", scenario(), "--paths", "500", "--out", self.path("one"), "-q")
        self.run_ok("run", scenario(), "--paths", "500", "--shard", "1/1", "--out", self.path("o1"), "-q")
        self.run_ok("merge", self.path("o1"), "--out", self.path("o-merged"))
        self.assert_same_files("o-merged", "one", ["summary.json", "bands.csv"])
        for k in (1, 2):
            self.run_ok("run", scenario(), "--paths", "500", "--shard", "%d/2" % k, "--out",
                        self.path("t%d" % k), "-q")
        self.run_ok("merge", self.path("t1"), self.path("t2"), "--out", self.path("t-merged"))
        self.assert_same_files("t-merged", "one", ["summary.json", "bands.csv"])
        self.assertEqual(json.loads(self.read("t-merged", "summary.json"))["paths"], 500)

    def test_thresholds_and_the_sampling_note_survive_the_merge(self):
        # Issue 26: run --shard ignored --threshold, and the merged summary.json had no
        # "exceedance" (nor the scenario's [outputs] thresholds) and no Sobol "note".
        for sampling, th in (("random", "funding_gap=100,250.5"), ("sobol", "capex_total=1800")):
            args = ["--paths", "1000", "--seed", "3", "--sampling", sampling, "--threshold", th, "-q"]
            single = self.run_ok("run", scenario(), *args, "--out", self.path("th-one-" + sampling))
            dirs = [self.path("th%d-%s" % (k, sampling)) for k in (1, 2)]
            for k, d in enumerate(dirs, 1):
                p = self.run_ok("run", scenario(), *args, "--shard", "%d/2" % k, "--out", d)
                self.assertIn("P(%s > " % th.split("=")[0], p.stdout)
                self.assertEqual(decode(self.read(d, "result.bin"))["thresholds"],
                                 [(th.split("=")[0], [float(v) for v in th.split("=")[1].split(",")])])
            m = self.run_ok("merge", *dirs, "--out", self.path("th-merged-" + sampling))
            self.assert_same_files("th-merged-" + sampling, "th-one-" + sampling,
                                   ["summary.json", "bands.csv"])
            summary = json.loads(self.read("th-merged-" + sampling, "summary.json"))
            name = th.split("=")[0]
            self.assertEqual(len(summary["metrics"][name]["exceedance"]), len(th.split(",")))
            lines = lambda out: [l for l in out.splitlines() if l.startswith("P(")]
            self.assertEqual(len(lines(single.stdout)), len(th.split(",")))
            self.assertEqual(lines(m.stdout), lines(single.stdout))
            if sampling == "sobol":  # 1000 is not a power of two
                self.assertIn("1000 is not (nearest: 512 or 1024)", summary["note"])
                self.assertIn("capexsim: note: ", m.stderr)
            else:
                self.assertNotIn("note", summary)
        # A bad --threshold is refused by a shard as by a run; shards with different
        # thresholds are not shards of one run.
        self.assert_refused(run("run", scenario(), "--paths", "100", "--shard", "1/2", "--out",
                                self.path("bad"), "--threshold", "nope=1"), "no output named 'nope'")
        self.assert_refused(run("run", scenario(), "--paths", "100", "--shard", "1/2", "--out",
                                self.path("bad"), "--threshold", "funding_gap=nan"), "not a finite number")
        self.assertFalse(os.path.exists(self.path("bad")))
        other = self.path("th-other")
        self.run_ok("run", scenario(), "--paths", "1000", "--seed", "3", "--threshold", "funding_gap=100",
                    "--shard", "2/2", "--out", other, "-q")
        self.assert_refused(run("merge", self.path("th1-random"), other, "--out", self.path("x")),
                            "different thresholds", "funding_gap=100.0,250.5 and funding_gap=100.0")

    # -- refusals --------------------------------------------------------------------------
    def test_bad_shard_options(self):
        for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/3", "1/3/4"):
            self.assert_refused(run("run", scenario(), "--paths", "100", "--shard", bad, "--out",
                                    self.path("bad")), "--shard " + bad, "K/N")
        self.assert_refused(run("run", scenario(), "--paths", "100", "--shard", "1/2"), "needs --out")
        self.assert_refused(run("run", scenario(), "--paths", "3", "--shard", "1/4", "--out", self.path("bad")),
                            "more shards than paths")

    def test_merge_refuses_missing_and_overlapping_shards(self):
        s1, s2, s3 = self.shards
        self.assert_refused(run("merge", s1, s3, "--out", self.path("x")), "paths [334, 667) are missing")
        self.assert_refused(run("merge", s1, s2, "--out", self.path("x")), "paths [667, 1000) are missing")
        self.assert_refused(run("merge", s2, s3, "--out", self.path("x")), "paths [0, 334) are missing")
        self.assert_refused(run("merge", s1, s2, s2, s3, "--out", self.path("x")), "overlap",
                            "paths [334, 667) in both")
        # A shard of a different split of the same run overlaps too, or differs in N.
        self.run_ok("run", scenario(), "--paths", "1000", "--seed", "7", "--per-path", "--shard", "1/2",
                    "--out", self.path("half1"), "-q")
        self.assert_refused(run("merge", self.path("half1"), s2, s3, "--out", self.path("x")),
                            "different shard counts (2 and 3)")
        self.assertFalse(os.path.exists(self.path("x", "summary.json")))

    def test_merge_refuses_shards_of_other_runs(self):
        s1, s2, s3 = self.shards
        # Shard 2/3 of a run that differs from s1 and s3's in one thing.
        cases = [  # scenario, --paths, --seed, --per-path, message
            ("ai-lab-2025", "1000", "8", True, "different seeds (7 and 8)"),
            ("ai-lab-2025", "1001", "7", True, "different path counts (--paths) (1000 and 1001)"),
            ("cheap-compute", "1000", "7", True, "different scenarios"),
            ("ai-lab-2025", "1000", "7", False, "different --per-path choices (on and off)"),
        ]
        for i, (name, paths, seed, per_path, message) in enumerate(cases):
            out = self.path("other%d" % i)
            self.run_ok("run", scenario(name), "--paths", paths, "--seed", seed,
                        *(["--per-path"] if per_path else []), "--shard", "2/3", "--out", out, "-q")
            self.assert_refused(run("merge", s1, out, s3, "--out", self.path("x")), message)

    def test_merge_refuses_forged_design_version_and_format(self):
        s1, s2, s3 = self.shards
        lhs = self.forged("lhs", "s2", design=b"lhs")
        self.assert_refused(run("merge", s1, lhs, s3, "--out", self.path("x")),
                            "different sampling designs (random and lhs)")
        old = self.forged("old", "s2", version=b"0.0.9")
        self.assert_refused(run("merge", s1, old, s3, "--out", self.path("x")),
                            "written by capexsim 0.0.9", "merge shards with the version that ran them")
        v3 = self.forged("v3", "s2", format=3)
        self.assert_refused(run("merge", s1, v3, s3, "--out", self.path("x")), "format version 3")
        # Version 1 (before the thresholds were kept) is refused with what to do.
        with open(self.path("s2", "result.bin"), "rb") as f:
            data = f.read()
        h = decode(data)
        at = data.index(struct.pack("<d", h["wall_seconds"]), 12) + 8
        v1 = b"CAPXSHRD" + struct.pack("<I", 1) + data[12:at] + data[at + 8:-8]  # no thresholds
        os.makedirs(self.path("v1"), exist_ok=True)
        with open(self.path("v1", "result.bin"), "wb") as f:
            f.write(v1 + struct.pack("<Q", fnv1a(v1)))
        self.assert_refused(run("merge", s1, self.path("v1"), s3, "--out", self.path("x")),
                            "shard file format version 1; this capexsim reads version 2",
                            "rerun the shard with this capexsim")
        # A header whose range does not match its K/N and result.
        moved = self.forged("moved", "s2", first_path=335)
        self.assert_refused(run("merge", s1, moved, s3, "--out", self.path("x")),
                            "header does not match its result")

    def test_merge_refuses_damaged_or_missing_files(self):
        s1, s2, s3 = self.shards
        data = bytearray(self.read("s2", "result.bin"))
        for name, damaged in (("flip", data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]),
                              ("cut", data[:len(data) // 2])):
            os.makedirs(self.path(name), exist_ok=True)
            with open(self.path(name, "result.bin"), "wb") as f:
                f.write(bytes(damaged))
            self.assert_refused(run("merge", s1, self.path(name), s3, "--out", self.path("x")),
                                os.path.join(self.path(name), "result.bin"), "checksum mismatch")
        with open(self.path("junk.bin"), "wb") as f:
            f.write(b"hello world, not a shard at all")
        self.assert_refused(run("merge", self.path("junk.bin"), "--out", self.path("x")), "no CAPXSHRD header")
        os.makedirs(self.path("empty"), exist_ok=True)
        self.assert_refused(run("merge", s1, self.path("empty"), "--out", self.path("x")),
                            os.path.join(self.path("empty"), "result.bin"), "cannot read")
        self.assert_refused(run("merge", s1, s2, s3), "--out")
        self.assertFalse(os.path.exists(self.path("x", "summary.json")))


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
