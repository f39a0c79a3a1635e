"""Plans shared by the step tests."""

from __future__ import annotations

import pytest

from packer.packing import plan_packs
from schemas.pack_config import PackConfig

from tests.packer.test_steps import _bimodal


@pytest.fixture(scope="module")
def k1_plan():
    """The bimodal mix (with full-context documents) planned for dp 8, one pack per rank per step."""
    t, p, m, labels = _bimodal(60_000, seed=5)
    cfg = PackConfig(dp_size=8, grad_accum=1, balance="mix")
    return plan_packs(t, p, m, cfg, labels=labels), cfg
