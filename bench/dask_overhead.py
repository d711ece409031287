"""Dask overhead of capexsim.distributed.simulate against one process, in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/dask_overhead.py [--paths N] [--repeat R]

Same machine, same threads in all rows: ``capexsim.simulate(threads=W)`` in this process,
then ``capexsim.distributed.simulate`` on a LocalCluster of W single-threaded worker
processes (started and warmed before timing), with per-path outputs and bands kept (the
defaults). "merge (pairwise, before)" times the client's merge of the same shard bytes as
it was done before issue 25 (``Result.from_bytes`` of each shard, then pairwise merges),
"merge_bytes (after)" the one-copy merge now used; both on the same bytes, in this run.
Prints the overhead (distributed / one process - 1) against the target of 25%.
"""
from __future__ import annotations

import argparse
import tempfile
import time


def best(f, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def pairwise(parts):
    from capexsim import _core
    while len(parts) > 1:
        parts = [_core.merge(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", default="scenarios/ai-lab-2025.toml")
    ap.add_argument("--paths", type=int, default=2_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()

    import distributed
    import capexsim
    import capexsim.distributed as cd
    from capexsim import _core

    sc = capexsim.Scenario.from_toml(a.scenario)
    w = a.workers
    one = best(lambda: capexsim.simulate(sc, paths=a.paths, threads=w), a.repeat)
    print(f"{a.scenario}: {a.paths} paths, per-path outputs and bands kept, {w} threads in all")
    print(f"  capexsim.simulate(threads={w})           : {one:8.2f} s")
    with distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cl, distributed.Client(cl) as c:
        cd.simulate(sc, paths=1000, client=c)  # warm the workers
        toml, source = sc.to_toml(), sc.source
        args = [(toml, source, 1, f, n, True, True, 1, a.paths)
                for f, n in cd.shard_ranges(a.paths, 4 * w)]
        # Before: the same shards, merged as distributed.simulate did before issue 25.
        before = best(lambda: pairwise([_core.Result.from_bytes(b) for b in
                                        cd.map_shards(cd.run_shard, args, client=c)]), a.repeat)
        dist = best(lambda: cd.simulate(sc, paths=a.paths, client=c), a.repeat)
        with tempfile.TemporaryDirectory() as d:
            files = best(lambda: cd.simulate(sc, paths=a.paths, client=c, shard_dir=d), a.repeat)
        print(f"  distributed, pairwise merge (before)    : {before:8.2f} s")
        print(f"  distributed.simulate (after)            : {dist:8.2f} s")
        print(f"  distributed.simulate(shard_dir=tmp)     : {files:8.2f} s")
        # The client's merge alone, before and after, on the same shard bytes.
        blobs = cd.map_shards(cd.run_shard, args, client=c)
    mb = sum(len(b) for b in blobs) / 1e6
    old = best(lambda: pairwise([_core.Result.from_bytes(b) for b in blobs]), a.repeat)
    new = best(lambda: _core.merge_bytes(blobs), a.repeat)
    print(f"  shard results: {mb:.0f} MB in all")
    print(f"  merge (pairwise, before)                : {old:8.2f} s")
    print(f"  merge_bytes (after)                     : {new:8.2f} s   ({old / new:.1f}x faster)")
    print(f"overhead before: {100 * (before / one - 1):.0f}%")
    print(f"overhead with shard_dir: {100 * (files / one - 1):.0f}%")
    over = dist / one - 1
    print(f"overhead of Dask: {100 * over:.0f}% (target <= 25%: {'met' if over <= 0.25 else 'MISSED'})")


if __name__ == "__main__":  # worker processes re-import this file
    main()
