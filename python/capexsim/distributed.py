"""Run a simulation's shards on a Dask cluster (``dask.distributed``).

>>> import capexsim.distributed
>>> res = capexsim.distributed.simulate("scenarios/ai-lab-2025.toml", paths=10_000_000, seed=1,
...                                     client=None, shards=None)

The paths are split into contiguous ranges (shards), each run by one *pure* task: its
inputs are the scenario's TOML text, the seed and the path range, its output the bytes of
the shard's result. A task can therefore run anywhere, and be rerun anywhere: a worker
lost mid-run costs only the shards it was running, which the scheduler gives to another
worker. The shards are merged in path order into a :class:`~capexsim.Result` equal, bit
for bit, to ``capexsim.simulate()`` of the same scenario, paths and seed.

:func:`map_shards` is the generic part (tasks in, results out in order, on a given or a
default cluster), so that other path-sharded computations can use it the same way.

Sensitivity (:func:`sensitivity`): a Sobol analysis splits its N base paths into
ranges; each task evaluates every run of the analysis (A, B and each A_B) on its range
and returns the evaluations as bytes, and the indices are computed from all of them in
path order, equal bit for bit to :func:`capexsim.sensitivity` on one machine. A tornado
is split the same way (each task runs the base and every pinned or varied run on its
range). Rank measures come from a sharded run (the shards carry each path's drawn
inputs).
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator, Optional, Sequence

from . import _core
from .result import Result

__all__ = ["simulate", "sensitivity", "map_shards", "shard_ranges"]


def shard_ranges(paths: int, shards: int) -> list[tuple[int, int]]:
    """(first_path, paths) of each of `shards` contiguous ranges covering [0, paths).

    Sizes differ by at most one, the larger ones first: the split of
    ``capexsim run --shard K/N``.
    """
    if shards < 1 or shards > paths:
        raise ValueError(f"shards must be from 1 to paths ({paths}), got {shards}")
    q, r = divmod(paths, shards)
    return [(i * q + min(i, r), q + (1 if i < r else 0)) for i in range(shards)]


def run_shard(toml: str, source: str, seed: int, first_path: int, paths: int, keep_paths: bool,
              bands: bool, threads: int, design_paths: int = 0, labs: Sequence = ()) -> bytes:
    """One shard as a pure function: the bytes of its result (``Result`` pickles them).

    design_paths: the whole run's path count, the size of an lhs design (0 = the shard's
    end, right only for a single shard).
    labs: a joint run's counterparties as (name, lab TOML, lab source) each."""
    core = _core.simulate(toml, source, paths, seed, threads, first_path, keep_paths, bands, None,
                          "", design_paths, 0, list(labs))
    return core.to_bytes()


class ShardBytes:
    """A shard's result bytes (``Result.to_bytes()``) as a Dask task returns them.

    capexsim registers a Dask serializer for it: the bytes themselves are the frame (no
    pickle), and on the client ``data`` is a ``memoryview`` of the buffer the network
    wrote, which :func:`capexsim._core.merge_bytes` reads in place (plain ``bytes`` are
    joined into new bytes from Dask's 64 MiB pieces first: one more copy of everything).
    Without the Dask serializer (a cluster configured for pickle only) it pickles as bytes.
    """

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    def __len__(self) -> int:
        return memoryview(self.data).nbytes

    def __reduce__(self):
        return (ShardBytes, (bytes(self.data),))


def _register_dask_serializer() -> None:
    """Teach Dask (when installed) to send ShardBytes as raw frames, and its size."""
    try:
        from dask.sizeof import sizeof
        from distributed.protocol import dask_deserialize, dask_serialize
    except ImportError:  # Dask is optional: only its tasks need this
        return

    @dask_serialize.register(ShardBytes)
    def _serialize(obj):
        return {}, [obj.data]

    @dask_deserialize.register(ShardBytes)
    def _deserialize(header, frames):
        if len(frames) == 1:
            return ShardBytes(frames[0])  # a view of the received buffer: no copy
        return ShardBytes(b"".join(frames))

    sizeof.register(ShardBytes)(len)  # the worker's memory accounting sees the bytes


_register_dask_serializer()


def shard_task(toml: str, source: str, seed: int, first_path: int, paths: int, keep_paths: bool,
               bands: bool, threads: int, design_paths: int = 0,
               labs: Sequence = ()) -> ShardBytes:
    """:func:`run_shard` as :func:`simulate` sends it: its bytes wrapped in
    :class:`ShardBytes`, so that they travel as raw frames, read in place on the client."""
    return ShardBytes(run_shard(toml, source, seed, first_path, paths, keep_paths, bands, threads,
                                design_paths, labs))


def run_shard_to_file(toml: str, source: str, seed: int, first_path: int, paths: int,
                      keep_paths: bool, bands: bool, threads: int, design_paths: int,
                      shard_dir: str, labs: Sequence = ()) -> str:
    """:func:`run_shard`, its bytes written to ``shard_dir/shard-FIRST-PATHS.bin`` (whole
    or not at all: written aside, then renamed); returns the file's path. Pure: a rerun
    writes the same bytes."""
    data = run_shard(toml, source, seed, first_path, paths, keep_paths, bands, threads,
                     design_paths, labs)
    path = os.path.join(shard_dir, f"shard-{first_path:012d}-{paths}.bin")
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


@contextlib.contextmanager
def _client(client) -> Iterator[Any]:
    """The given client; else the default one; else a LocalCluster of processes (one
    single-threaded worker per core), shut down on exit."""
    if client is not None:
        yield client
        return
    import distributed

    try:
        yield distributed.default_client()
        return
    except ValueError:  # no default client
        pass
    with distributed.LocalCluster(processes=True, threads_per_worker=1,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def map_shards(task: Callable[..., Any], args: Sequence[Sequence[Any]], client=None) -> list[Any]:
    """``[task(*a) for a in args]`` as pure Dask tasks, results in the order of `args`.

    `task` must be a pure, importable function (the same inputs give the same output),
    so a task lost with its worker can be rerun elsewhere with the same result.
    client: a ``distributed.Client``; None uses the default client, or starts a
    LocalCluster for the call.
    """
    with _client(client) as c:
        futures = [c.submit(task, *a, pure=True) for a in args]
        try:
            return _gather_as_completed(futures)
        finally:
            for f in futures:
                f.release()


def _gather_as_completed(futures: list) -> list[Any]:
    """The futures' results in their order, each fetched as soon as its task ends (the
    transfer of one shard overlaps the computing of the others) and released on the
    worker at once. A failed task raises its error, as ``Client.gather`` does."""
    import distributed

    where: dict = {}  # key -> its positions (equal tasks share a key, and a result)
    for i, f in enumerate(futures):
        where.setdefault(f.key, []).append(i)
    out: list[Any] = [None] * len(futures)
    for f, value in distributed.as_completed(futures, with_results=True):
        for i in where.get(f.key, ()):
            out[i] = value
        f.release()
    return out


def _merge_files(files: list) -> "_core.Result":
    """merge_bytes over memory maps of the shard files (read by the merge's one copy)."""
    import mmap

    with contextlib.ExitStack() as stack:
        maps = []
        for name in files:
            f = stack.enter_context(open(name, "rb"))
            maps.append(stack.enter_context(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)))
        core = _core.merge_bytes(maps)
        del maps  # no exported buffers may remain when the maps close
    return core


def simulate(scenario, paths: int = 100_000, seed: int = 1, client=None,
             shards: Optional[int] = None, **kwargs) -> Result:
    """``capexsim.simulate()`` with the paths split into shards run on a Dask cluster.

    scenario, paths, seed: as for :func:`capexsim.simulate`; the result equals its
    result bit for bit (per-path values, statistics, bands).
    client: a ``distributed.Client`` (e.g. ``Client("tcp://scheduler:8786")``); None uses
    the default client if there is one, else starts a LocalCluster of processes for
    this call.
    shards: number of shards; None = one per worker thread of the cluster (at most
    `paths`): each shard has fixed costs (its band sketches are built, sent and merged
    whatever its size), so the fewest shards that keep every thread busy are the fastest
    on a dedicated cluster. On a shared or uneven one, more (e.g. 4 per thread) let
    faster workers take more of them and bound what a dead worker costs.
    shard_dir: a folder every worker and the client can read and write (a shared file
    system, or a local disk on one machine): the workers write their shards' bytes there
    (``shard-FIRST-PATHS.bin``, kept after the call) and send back only the file names;
    the client maps the files and merges them without copying them first. None (the
    default) sends the bytes through Dask.
    keep_paths, bands: as for :func:`capexsim.simulate`.
    threads: threads each shard runs on (default 1: the parallelism comes from the
    workers' threads, ``dask worker --nthreads``).
    counterparties: ``{name: lab}``: a joint run (docs/model.md §12.6), as for
    :func:`capexsim.simulate`; each task runs the lab on its own path range, and the
    merged result equals the single-machine joint run bit for bit.
    """
    from ._args import _as_scenario, _count, _labs, _threads

    unknown = set(kwargs) - {"keep_paths", "bands", "threads", "shard_dir", "counterparties"}
    if unknown:
        raise TypeError(f"simulate() got unexpected keyword arguments: {sorted(unknown)}")
    sc = _as_scenario(scenario)
    paths = _count(paths, "paths", 1)
    seed = _count(seed, "seed", 0)
    keep_paths = bool(kwargs.get("keep_paths", True))
    bands = bool(kwargs.get("bands", True))
    threads = _count(kwargs.get("threads", 1), "threads", 1)
    _threads(threads)  # at most 4096, as the command line
    shard_dir = kwargs.get("shard_dir")
    labs = _labs(kwargs.get("counterparties"))
    if shard_dir is not None:
        shard_dir = os.fspath(shard_dir)
        if not os.path.isdir(shard_dir):
            raise ValueError(f"shard_dir {shard_dir!r} is not a folder")
    toml, source = sc.to_toml(), sc.source
    if labs:  # a bad pair is one clear ValueError here, not one per task
        _core.simulate(toml, source, 1, seed, 1, 0, False, False, None, "", 0, 0, labs)
    with _client(client) as c:
        n = shards
        if n is None:
            n = min(paths, max(1, sum(c.nthreads().values())))
        n = _count(n, "shards", 1)
        args = [(toml, source, seed, first, count, keep_paths, bands, threads, paths)
                for first, count in shard_ranges(paths, n)]
        if shard_dir is None:
            blobs = [b.data for b in map_shards(shard_task, [a + (labs,) for a in args],
                                                 client=c)]
        else:
            files = map_shards(run_shard_to_file, [a + (shard_dir, labs) for a in args],
                               client=c)
    if shard_dir is None:
        # One merge of all shards' bytes: each per-path array is copied once, into place.
        core = _core.merge_bytes(blobs)
        del blobs
    else:
        core = _merge_files(files)
    # The Result of simulate(): its scenario (fan-chart events, the workbook's inputs
    # sheet, an equal pickle), sampling, notes and thresholds.
    from ._run import _finish, _sampling_of
    res = Result(core, sc)
    method = _sampling_of(sc)
    _finish(res, sc, method, _core.sampling_note(method, paths), None)
    return res


def sobol_shard(toml: str, source: str, output: str, stat: str, seed: int, first_path: int,
                paths: int, threads: int, over_time: str, labs: Sequence = ()) -> bytes:
    """One path range of a Sobol analysis as a pure function: its evaluations as bytes."""
    return _core.sobol_samples(toml, source, output, stat, paths, first_path, seed, threads,
                               over_time, list(labs))


def tornado_shard(toml: str, source: str, output: str, seed: int, first_path: int, paths: int,
                  threads: int, low: float, high: float, vary: list, labs: Sequence = ()) -> bytes:
    """One path range of a tornado as a pure function: its evaluations as bytes."""
    return _core.tornado_samples(toml, source, output, paths, first_path, seed, threads, low, high,
                                 vary, list(labs))


def sensitivity(scenario, method: str = "sobol", output: str = "funding_gap", stat: str = "mean",
                paths: Optional[int] = None, seed: int = 1, client=None,
                shards: Optional[int] = None, over_time: Optional[str] = None,
                bootstrap: int = 1000, threads: int = 1, low: float = 0.1, high: float = 0.9,
                vary=None, counterparties: Optional[dict] = None):
    """:func:`capexsim.sensitivity` with its paths split across a Dask cluster.

    method: "sobol" or "tornado" (the paths split into shards, each task running every
    run of the analysis on its range), or "rank" (a sharded :func:`simulate`, then the
    rank measures of the merged paths). Each gives the single-machine table bit for bit.
    paths: as for :func:`capexsim.sensitivity` (sobol: N = 65,536; tornado: 50,000 per
    run; rank: 100,000). low, high, vary: tornado, as for :func:`capexsim.sensitivity`.
    client, threads: as for :func:`simulate`. shards: None = 4 per worker thread (the
    evaluations a task sends back are small, and more tasks balance better).
    counterparties: ``{name: lab}``: every evaluation a joint run, as for
    :func:`capexsim.sensitivity`; the same table bit for bit.
    """
    from ._args import _as_scenario, _count, _labs, _threads
    from .sensitivity import DEFAULT_PATHS, _rank_frame, _sobol_frame, _tornado_frame, _vary_list

    if method not in ("sobol", "rank", "tornado"):
        raise ValueError(f"unknown method {method!r}; expected one of: rank, tornado, sobol")
    # The same checks as capexsim.sensitivity: an option the method does not use is an error.
    if vary and method != "tornado":
        raise ValueError(f"vary applies to method='tornado' (and calibrate), not {method!r}")
    if over_time is not None and method != "sobol":
        raise ValueError(f"over_time applies to method='sobol', not {method!r}")
    if method != "tornado" and (low, high) != (0.1, 0.9):
        raise ValueError(f"low and high apply to method='tornado', not {method!r}")
    if client is not None and not hasattr(client, "submit"):
        raise TypeError(f"client must be a distributed.Client or None, got {type(client).__name__}")
    sc = _as_scenario(scenario)
    paths = _count(DEFAULT_PATHS[method] if paths is None else paths, "paths", 1)
    seed = _count(seed, "seed", 0)
    threads = _count(threads, "threads", 1)
    labs = _labs(counterparties)
    _threads(threads)  # at most 4096, as the command line
    if method == "rank":
        if stat != "mean" or over_time is not None:
            raise ValueError("rank takes neither stat nor over_time")
        res = simulate(sc, paths=paths, seed=seed, client=client, shards=shards, bands=False,
                       threads=threads, counterparties=counterparties)
        df = _rank_frame(res._core, output, sc.name)
    elif method == "tornado":
        varies = _vary_list(vary)
        toml, source = sc.to_toml(), sc.source
        # Check the arguments (and the statistic) on a few paths first: one clear error.
        _core.tornado_from_shards([_core.tornado_samples(toml, source, output, 2, 0, seed, 1,
                                                         float(low), float(high), varies,
                                                         labs)], stat)
        with _client(client) as c:
            n = shards
            if n is None:
                n = min(paths, 4 * max(1, sum(c.nthreads().values())))
            n = _count(n, "shards", 1)
            args = [(toml, source, output, seed, first, count, threads, float(low), float(high),
                     varies, labs) for first, count in shard_ranges(paths, n)]
            blobs = map_shards(tornado_shard, args, client=c)
        df = _tornado_frame(_core.tornado_from_shards(blobs, stat), paths, low, high, varies)
    else:
        from .sensitivity import _bootstrap_count
        bootstrap = _bootstrap_count(bootstrap)
        toml, source = sc.to_toml(), sc.source
        # Check the arguments on a few paths here, so that a mistake is one clear error
        # rather than one per task.
        _core.sobol_samples(toml, source, output, stat, 2, 0, seed, 1, over_time or "", labs)
        with _client(client) as c:
            n = shards
            if n is None:
                n = min(paths, 4 * max(1, sum(c.nthreads().values())))
            n = _count(n, "shards", 1)
            args = [(toml, source, output, stat, seed, first, count, threads, over_time or "",
                     labs) for first, count in shard_ranges(paths, n)]
            blobs = map_shards(sobol_shard, args, client=c)
        df = _sobol_frame(_core.sobol_from_shards(blobs, bootstrap), over_time, bootstrap)
    df.attrs.setdefault("paths", paths)
    df.attrs.update(seed=seed, scenario=sc.name)
    if labs:
        df.attrs.update(counterparties=[name for name, _, _ in labs])
    return df
