import os

import matplotlib
import pytest

matplotlib.use("Agg")

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="session")
def reference_path():
    return os.path.join(SOURCE_DIR, "scenarios", "ai-lab-2025.toml")


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE_DIR
