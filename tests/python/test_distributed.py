"""capexsim.distributed on a LocalCluster: the single run's bits, even when a worker dies."""
import operator
import os
import pickle
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import capexsim
import capexsim.distributed as cd

distributed = pytest.importorskip("distributed")

# Known and harmless: distributed 2022.12 with tornado 6.2 on Python 3.11 calls tornado's
# deprecated IOLoop.make_current() when it starts its event loop. Nothing else is ignored.
pytestmark = pytest.mark.filterwarnings(
    "ignore:make_current is deprecated; start the event loop first:DeprecationWarning")


def assert_same_result(a, b):
    """Everything a Result shows: identity, per-path values (bits), the summary of every
    output and the bands of every series (exact). Result.to_bytes() is not compared: two
    equal quantile sketches may keep different runs of empty buckets."""
    for attr in ("scenario_name", "scenario_fingerprint", "seed", "n_paths", "first_path", "steps",
                 "dt", "start_year", "output_names"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a._core.has_per_path() == b._core.has_per_path()
    if a._core.has_per_path():
        assert a.per_path.tobytes() == b.per_path.tobytes()
        # the drawn inputs travel with the shards' bytes: rank measures of a cluster run
        assert a.input_names == b.input_names
        assert a.inputs.to_numpy().tobytes() == b.inputs.to_numpy().tobytes()
        pd.testing.assert_frame_equal(a.rank(), b.rank(), check_exact=True)
    pd.testing.assert_frame_equal(a.summary(), b.summary(), check_exact=True)
    assert a._core.has_bands() == b._core.has_bands()
    if a._core.has_bands():
        for series in capexsim.SERIES:
            pd.testing.assert_frame_equal(a.bands(series), b.bands(series), check_exact=True)


@pytest.fixture(scope="module")
def client():
    # Two single-threaded worker processes; the dashboard on a free port (8787 may be taken).
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_shard_ranges_split_like_the_cli():
    assert cd.shard_ranges(1000, 3) == [(0, 334), (334, 333), (667, 333)]
    assert cd.shard_ranges(5, 5) == [(i, 1) for i in range(5)]
    with pytest.raises(ValueError, match="shards must be from 1 to paths"):
        cd.shard_ranges(3, 4)


def test_without_a_client_a_local_cluster_runs_for_the_call(reference_path):
    with pytest.raises(ValueError):
        distributed.default_client()  # none yet: simulate() starts (and stops) its own
    one = capexsim.simulate(reference_path, paths=2_000, seed=4)
    assert_same_result(cd.simulate(reference_path, paths=2_000, seed=4, shards=3), one)


def test_two_worker_processes_give_the_single_run_bits(client, reference_path):
    one = capexsim.simulate(reference_path, paths=20_000, seed=3)
    assert len(client.nthreads()) == 2
    for shards in (5, None, 8):  # None: one per worker thread = 2
        res = cd.simulate(reference_path, paths=20_000, seed=3, client=client, shards=shards)
        assert_same_result(res, one)
    # Streaming only (no per-path values, no bands), from a Scenario object.
    sc = capexsim.Scenario.from_toml(reference_path)
    sc["cost"]["cost_per_gw"] = {"triangular": [40, 45, 55]}
    lean = capexsim.simulate(sc, paths=3_001, seed=9, keep_paths=False, bands=False)
    res = cd.simulate(sc, paths=3_001, seed=9, client=client, shards=3, keep_paths=False, bands=False)
    assert_same_result(res, lean)
    assert res.summary().loc["funding_gap", "mean"] != one.summary().loc["funding_gap", "mean"]
    # client=None takes the default client (the one above).
    assert_same_result(cd.simulate(reference_path, paths=20_000, seed=3, shards=2), one)


def test_sensitivity_on_the_cluster_equals_one_machine(client, reference_path):
    # Sobol: the base paths split into 3 ranges, each evaluating every run of the analysis.
    one = capexsim.sensitivity(reference_path, "sobol", paths=1_500, seed=2, bootstrap=200)
    two = cd.sensitivity(reference_path, "sobol", paths=1_500, seed=2, bootstrap=200,
                         client=client, shards=3)
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    assert two.attrs["mean"] == one.attrs["mean"]
    ot1 = capexsim.sensitivity(reference_path, "sobol", paths=600, seed=2, bootstrap=200,
                               over_time="cash")
    ot2 = cd.sensitivity(reference_path, "sobol", paths=600, seed=2, bootstrap=200,
                         over_time="cash", client=client, shards=2)
    pd.testing.assert_frame_equal(ot2, ot1, check_exact=True)
    # Rank: a sharded run.
    r1 = capexsim.sensitivity(reference_path, "rank", paths=3_000, seed=2)
    r2 = cd.sensitivity(reference_path, "rank", paths=3_000, seed=2, client=client, shards=4)
    pd.testing.assert_frame_equal(r2, r1, check_exact=True)
    # Tornado: every run of it on each range; a quantile statistic over the merged paths.
    t1 = capexsim.sensitivity(reference_path, "tornado", stat="p90", paths=1_200, seed=2,
                              vary={"build.plan_cap_gw": (20, 40)})
    t2 = cd.sensitivity(reference_path, "tornado", stat="p90", paths=1_200, seed=2,
                        vary={"build.plan_cap_gw": (20, 40)}, client=client, shards=3)
    pd.testing.assert_frame_equal(t2, t1, check_exact=True)
    assert t2.attrs["base"] == t1.attrs["base"]
    with pytest.raises(ValueError, match="unknown method"):
        cd.sensitivity(reference_path, "anova", client=client)
    with pytest.raises(ValueError, match="unknown statistic"):
        cd.sensitivity(reference_path, "tornado", stat="p101", paths=100, client=client)
    with pytest.raises(ValueError, match="unknown output"):
        cd.sensitivity(reference_path, "sobol", output="nope", paths=100, client=client)


def test_a_joint_run_on_the_cluster_gives_the_single_run_bits(client, source_dir, tmp_path):
    """Issue 23: simulate(..., counterparties=) sharded on Dask (each task runs the lab on its
    range) equals the single-machine joint run bit for bit; so does a joint sensitivity."""
    prov = os.path.join(source_dir, "scenarios", "oracle-side.toml")
    lab = capexsim.Scenario.from_toml(os.path.join(source_dir, "scenarios",
                                                   "ai-lab-2026-stress.toml"))
    one = capexsim.simulate(prov, paths=3_000, seed=6, counterparties={"oracle": lab})
    alone = capexsim.simulate(prov, paths=3_000, seed=6)
    assert one.scenario_fingerprint != alone.scenario_fingerprint
    for shards in (4, None):
        res = cd.simulate(prov, paths=3_000, seed=6, client=client, shards=shards,
                          counterparties={"oracle": lab})
        assert_same_result(res, one)
    assert res._core.to_bytes() == one._core.to_bytes()
    files = cd.simulate(prov, paths=3_000, seed=6, client=client, shards=3, shard_dir=tmp_path,
                        counterparties={"oracle": lab})
    assert_same_result(files, one)
    assert not np.array_equal(one.outputs["received_oracle"], alone.outputs["received_oracle"])
    s1 = capexsim.sensitivity(prov, "sobol", output="received_oracle", paths=400, seed=2,
                              bootstrap=200, counterparties={"oracle": lab})
    s2 = cd.sensitivity(prov, "sobol", output="received_oracle", paths=400, seed=2,
                        bootstrap=200, client=client, shards=3, counterparties={"oracle": lab})
    pd.testing.assert_frame_equal(s2, s1, check_exact=True)
    t1 = capexsim.sensitivity(prov, "tornado", output="received_oracle", paths=600, seed=2,
                              counterparties={"oracle": lab})
    t2 = cd.sensitivity(prov, "tornado", output="received_oracle", paths=600, seed=2,
                        client=client, shards=2, counterparties={"oracle": lab})
    pd.testing.assert_frame_equal(t2, t1, check_exact=True)
    with pytest.raises(ValueError, match='no \\[\\[revenue_contract\\]\\] named "azure"'):
        cd.simulate(prov, paths=100, client=client, counterparties={"azure": lab})


def test_the_cluster_result_is_simulates_result(client, reference_path):
    # Issue 24: the merged Result carries its Scenario (fan-chart events, the workbook's
    # inputs sheet) and pickles to the same bytes as simulate()'s.
    one = capexsim.simulate(reference_path, paths=6_000, seed=2)
    res = cd.simulate(reference_path, paths=6_000, seed=2, client=client, shards=5)
    assert res.scenario is not None
    assert res.scenario.to_toml() == one.scenario.to_toml()
    assert (res.sampling, res.notes, res.thresholds) == (one.sampling, one.notes, one.thresholds)
    assert res._core.to_bytes() == one._core.to_bytes()
    assert pickle.dumps(res) == pickle.dumps(one)
    # An lhs design spans the whole run, not each shard: the shards are told its size.
    sc = capexsim.Scenario.from_toml(reference_path)
    sc["simulation"]["sampling"] = "lhs"
    lhs_one = capexsim.simulate(sc, paths=3_000, seed=2)
    assert_same_result(cd.simulate(sc, paths=3_000, seed=2, client=client, shards=3), lhs_one)


def test_workers_write_shards_to_a_shared_folder_when_asked(client, reference_path, tmp_path):
    one = capexsim.simulate(reference_path, paths=5_000, seed=8)
    res = cd.simulate(reference_path, paths=5_000, seed=8, client=client, shards=4,
                      shard_dir=tmp_path)
    assert_same_result(res, one)
    assert pickle.dumps(res) == pickle.dumps(one)
    # The same bits without the folder (bytes through Dask), and with one shard per worker.
    for shards in (4, 2):
        assert pickle.dumps(cd.simulate(reference_path, paths=5_000, seed=8, client=client,
                                        shards=shards)) == pickle.dumps(one)
    files = sorted(os.listdir(tmp_path))
    assert files == [f"shard-{f:012d}-{n}.bin" for f, n in cd.shard_ranges(5_000, 4)]
    with pytest.raises(ValueError, match="not a folder"):
        cd.simulate(reference_path, paths=100, client=client, shard_dir=tmp_path / "nope")


def test_merge_bytes_takes_shards_in_any_order(reference_path):
    one = capexsim.simulate(reference_path, paths=3_000, seed=6)
    parts = [capexsim.simulate(reference_path, paths=n, first_path=f, seed=6)._core.to_bytes()
             for f, n in cd.shard_ranges(3_000, 4)]
    merged = capexsim._core.merge_bytes(parts[::-1])
    assert merged.to_bytes() == one._core.to_bytes()
    with pytest.raises(ValueError, match="not adjacent"):
        capexsim._core.merge_bytes([parts[0], parts[2]])


def test_map_shards_keeps_the_order_of_its_arguments(client):
    args = [(i, 100) for i in range(7)]
    assert cd.map_shards(operator.add, args, client) == [i + 100 for i in range(7)]
    # Results are fetched as tasks end, in any order; equal tasks share one key and result.
    args = [(0.3, 0), (0.0, 1), (0.3, 0), (0.1, 2)]
    assert cd.map_shards(_sleep_then, args, client) == [0, 1, 0, 2]
    # A failing task raises its error on the client, as Client.gather does.
    with pytest.raises(ZeroDivisionError):
        cd.map_shards(operator.truediv, [(1, 1), (1, 0)], client)


def _sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def test_shard_bytes_travel_without_copies(client, reference_path):
    """Issue 25: a shard's bytes cross Dask with capexsim's serializer (the bytes
    themselves are the frame, no pickle) and arrive as a view of the received buffer (no
    join into new bytes); without Dask's serializer they pickle as bytes."""
    from distributed.protocol.serialize import deserialize, serialize

    sc = capexsim.Scenario.from_toml(reference_path)
    data = capexsim.simulate(sc, paths=500, seed=3)._core.to_bytes()
    shard = cd.ShardBytes(data)
    header, frames = serialize(shard)
    assert header["serializer"] == "dask" and len(frames) == 1 and frames[0] is data
    back = deserialize(header, [memoryview(data)])
    assert isinstance(back, cd.ShardBytes) and isinstance(back.data, memoryview)
    assert bytes(back.data) == data
    assert pickle.loads(pickle.dumps(back)).data == data
    from dask.sizeof import sizeof
    assert sizeof(shard) == len(data)
    # From a worker: the bytes of run_shard (a view of the received frame, or the bytes
    # lz4 decompressed into when Dask compressed them), which merge_bytes reads in place.
    got = client.submit(cd.shard_task, sc.to_toml(), sc.source, 3, 0, 500, True, True, 1,
                        500).result()
    assert isinstance(got, cd.ShardBytes) and memoryview(got.data).nbytes == len(data)
    assert capexsim._core.merge_bytes([got.data]).to_bytes() == data


def test_bad_arguments(client, reference_path):
    with pytest.raises(TypeError, match="progress"):
        cd.simulate(reference_path, paths=100, client=client, progress=True)
    with pytest.raises(ValueError, match="shards must be from 1 to paths"):
        cd.simulate(reference_path, paths=10, client=client, shards=11)


def test_a_worker_killed_mid_run_costs_only_its_shards(reference_path):
    paths, shards = 120_000, 6  # shards of 20,000 paths: ~0.2 s each on one core
    one = capexsim.simulate(reference_path, paths=paths, seed=5)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        pids = c.run(os.getpid)  # worker address -> pid
        out = {}

        def work():
            out["result"] = cd.simulate(reference_path, paths=paths, seed=5, client=c, shards=shards)

        runner = threading.Thread(target=work)
        runner.start()
        # Kill (SIGKILL: no goodbye) a worker process while it runs a shard; its nanny
        # starts a new one and the scheduler reruns the lost shard.
        killed = None
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline:
            busy = [w for w, keys in c.processing().items() if keys and w in pids]
            if busy:
                killed = pids[busy[0]]
                os.kill(killed, signal.SIGKILL)
            else:
                time.sleep(0.01)
        runner.join(timeout=120)
        assert killed is not None and not runner.is_alive()
        new_pids = c.run(os.getpid)
        assert killed not in new_pids.values()
        # The scheduler took a running shard back from the dead worker (processing ->
        # released), and every shard finished (some maybe twice: results held by the dead
        # worker are lost with it and recomputed).
        log = c.run_on_scheduler(
            lambda dask_scheduler: [tuple(map(str, t[:3])) for t in dask_scheduler.transition_log])
        shard_log = [t for t in log if t[0].startswith("shard_task-")]
        assert any(t[1:] == ("processing", "released") for t in shard_log)
        assert len({t[0] for t in shard_log if t[1:] == ("processing", "memory")}) == shards
    assert_same_result(out["result"], one)
