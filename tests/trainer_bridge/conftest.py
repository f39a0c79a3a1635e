from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # shard_builder, demo_packs, hf_reference


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory, ray_local):
    """A committed output of a real vlpack pack job (demo corpus, small context), made once per session."""
    from demo_packs import make_demo_output

    return make_demo_output(tmp_path_factory.mktemp("bridge_demo"))
