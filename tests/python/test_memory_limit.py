"""Memory checked before it is spent (issue 10): a clear MemoryError, not std::bad_alloc."""
import pytest

import capexsim


def test_too_many_paths_is_refused_with_the_cause(reference_path):
    # Once: "MemoryError: std::bad_alloc" after trying to allocate 800 TB.
    with pytest.raises(MemoryError, match=r"per-path outputs: .* for 10000000000000 paths x 23 outputs"):
        capexsim.simulate(reference_path, paths=10**13)
    with pytest.raises(MemoryError, match="keep_paths=False"):
        capexsim.simulate(reference_path, paths=10**13)


def test_memory_limit_option(reference_path):
    with pytest.raises(MemoryError, match=r"more than the limit of 1\.0 MB \(set by the memory limit option\)"):
        capexsim.simulate(reference_path, paths=1000, memory_limit=10**6)
    res = capexsim.simulate(reference_path, paths=1000, memory_limit=10**9)
    assert len(res.outputs["funding_gap"]) == 1000
    with pytest.raises(ValueError, match="memory_limit"):
        capexsim.simulate(reference_path, paths=1000, memory_limit=0)
