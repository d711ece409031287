"""Dask overhead of capexsim.distributed.simulate against one process, in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/dask_overhead.py [--paths N] [--repeat R]

Same machine, same threads in all rows: ``capexsim.simulate(threads=W)`` in this process,
then ``capexsim.distributed.simulate`` on a LocalCluster of W single-threaded worker
processes (started and warmed before timing), with per-path outputs and bands kept (the
defaults). Each row is the best of R repetitions, interleaved (each repetition runs every
row once, so that a change of a shared machine's load hits all rows alike).

Rows:
  first pass   the shards as distributed.simulate sent them after issue 25's first pass
               (4 per worker thread):
               ``run_shard`` returns ``bytes`` (Dask splits them into 64 MiB frames and
               lz4-compresses what compresses), ``Client.gather`` once every shard is done,
               then ``merge_bytes``; the same shards as the shards=4W row;
  default      ``distributed.simulate`` now: one shard per worker thread, its bytes sent
               with capexsim's serializer, fetched as soon as its task ends and merged
               from the received buffers;
  shards=4W    the same with 4 shards per worker thread (the first pass's split);
  shard_dir    the workers write the shards to a temporary folder, the client maps them.
Then the client's share of the default row: fetching the last shards after the last task
ended, and the merge. Prints the overhead (distributed / one process - 1) against 25%.
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
    print(f"{a.scenario}: {a.paths} paths, per-path outputs and bands kept, {w} threads in all, "
          f"best of {a.repeat} (rows interleaved: each repetition runs every row once)")
    with distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cl, distributed.Client(cl) as c, \
            tempfile.TemporaryDirectory() as d:
        cd.simulate(sc, paths=1000, client=c)  # warm the workers
        toml, source = sc.to_toml(), sc.source
        n = 4 * w  # the default before the second pass: 4 shards per worker thread
        args = [(toml, source, 1, f, k, True, True, 1, a.paths)
                for f, k in cd.shard_ranges(a.paths, n)]

        def first_pass():
            futures = [c.submit(cd.run_shard, *x, pure=True) for x in args]
            blobs = c.gather(futures)
            for f in futures:
                f.release()
            return _core.merge_bytes(blobs)

        one_name = f"capexsim.simulate(threads={w})"
        dist_name = f"distributed.simulate (default: {w} shards)"
        runs = {
            one_name: lambda: capexsim.simulate(sc, paths=a.paths, threads=w),
            f"distributed, first pass ({n} shards)": first_pass,
            dist_name: lambda: cd.simulate(sc, paths=a.paths, client=c),
            f"distributed.simulate(shards={n})": lambda: cd.simulate(sc, paths=a.paths, client=c,
                                                                     shards=n),
            "distributed.simulate(shard_dir=tmp)": lambda: cd.simulate(sc, paths=a.paths, client=c,
                                                                       shard_dir=d),
        }
        # Interleaved, so that a change of the machine's load hits every row alike.
        times = {name: [] for name in runs}
        for _ in range(a.repeat):
            for name, f in runs.items():
                times[name].append(best(f, 1))
        rows = {name: min(t) for name, t in times.items()}
        one, dist = rows[one_name], rows[dist_name]
        # The client's share: the wait after the last task ended, and the merge.
        futures = [c.submit(cd.shard_task, *x, pure=False)
                   for x in [(toml, source, 1, f, k, True, True, 1, a.paths)
                             for f, k in cd.shard_ranges(a.paths, w)]]
        distributed.wait(futures)
        t = time.perf_counter()
        blobs = [b.data for b in c.gather(futures)]
        fetch = time.perf_counter() - t
        for f in futures:
            f.release()
    mb = sum(memoryview(b).nbytes for b in blobs) / 1e6
    merge = best(lambda: _core.merge_bytes(blobs), a.repeat)
    for name, t in rows.items():
        over = "" if name == one_name else f"   overhead {100 * (t / one - 1):4.0f}%"
        print(f"  {name:40}: {t:8.2f} s{over}")
    print(f"  shard results: {mb:.0f} MB in all; fetching them all after the tasks: {fetch:.2f} s, "
          f"merge_bytes: {merge:.2f} s")
    over = dist / one - 1
    print(f"overhead of Dask: {100 * over:.0f}% (target <= 25%: {'met' if over <= 0.25 else 'MISSED'})")


if __name__ == "__main__":  # worker processes re-import this file
    main()
