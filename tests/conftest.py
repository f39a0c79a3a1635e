"""Shared fixtures: one real local Ray runtime per test session, and a small demo corpus."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Hypothesis: CI (CI set) draws the same examples on every run, with no example database, so a
# submission never fails by chance; locally each run explores new examples. Either way a failure
# prints the blob that reproduces it (`@reproduce_failure`). No deadline: a per-example time limit
# is a wall-clock limit, and on a shared, loaded machine it fails tests that are right.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile("dev", print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def ray_local():
    """A real embedded Ray runtime (2 CPUs), shared by every test that needs one."""
    import ray

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=400 * 1024 * 1024,
                 ignore_reinit_error=True)
    yield ray
    # left running for the rest of the session; pytest exit tears the processes down


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory):
    """A small demo corpus (data + job.yaml), made once per session."""
    from jobs.demo_data import make_demo_dataset

    root = tmp_path_factory.mktemp("demo")
    return make_demo_dataset(root, samples=300, seed=7)
