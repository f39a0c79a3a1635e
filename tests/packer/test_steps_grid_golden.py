"""Golden digests of step assembly over a grid of configurations: both balance modes, 1, 2 and 4
packs per rank per step, 2 and 4 ranks, a fused and a separate ViT phase, every remainder mode, on
a labelled plan (two label kinds) with upsampled copies.

Each case stores a digest of everything `assemble_steps` decides (pack, step, rank, micro, shard,
fillers, repeats, dropped packs, the mix lean and the copies sharing a step). A failure means that
the same inputs, config and seed now give different steps: if that is deliberate, regenerate with
``VLPACK_UPDATE_GOLDEN=1 pytest tests/packer/test_steps_grid_golden.py`` in the same commit and say
so in its message. The plain-property tests live in test_steps.py; this file pins the exact output.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from packer.packing import plan_packs
from packer.steps import assemble_steps
from schemas.pack_config import PackConfig

GOLDEN = Path(__file__).parent / "data" / "steps_grid_golden.json"
CASES = [(balance, k, dp, phase, "drop") for balance in ("mix", "cost") for k in (1, 2, 4) for dp in (2, 4)
         for phase in ("fused", "separate")]
CASES += [(balance, 2, 2, "fused", remainder) for balance in ("mix", "cost") for remainder in ("pad", "repeat")]


def _samples(n: int = 420, seed: int = 5):
    """Text and image samples with two label kinds (3 sources, 2 tasks); every 9th sample has a copy."""
    rng = np.random.default_rng(seed)
    source = rng.integers(0, 3, n)
    images = np.where(source == 0, rng.integers(1, 4, n), np.where(source == 1, rng.integers(0, 2, n), 0))
    tokens = np.where(source == 2, rng.integers(300, 1800, n), rng.integers(40, 400, n)) + 64 * images
    patches = 256 * images * rng.integers(1, 4, n)
    labels = np.stack((source, (rng.random(n) < 0.3).astype(np.int64)), axis=1)
    copy_group = np.full(n, -1, np.int64)
    originals = np.arange(0, n, 9)
    tokens = np.concatenate((tokens, tokens[originals]))
    patches = np.concatenate((patches, patches[originals]))
    images = np.concatenate((images, images[originals]))
    labels = np.concatenate((labels, labels[originals]))
    copy_group[originals] = originals
    copy_group = np.concatenate((copy_group, originals))
    return tokens, patches, images, labels, copy_group


def _digest(sp) -> str:
    h = hashlib.sha256()
    for a in (sp.pack, sp.step, sp.rank, sp.micro, sp.shard, sp.is_filler, sp.repeat_of, sp.dropped_packs):
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.int64)).tobytes())
        h.update(b"|")
    h.update(json.dumps([sp.n_steps, round(float(sp.mix_cost_lean), 6), int(sp.copies_sharing_step)]).encode())
    return h.hexdigest()[:24]


def _key(case) -> str:
    return "/".join(str(x) for x in case)


@pytest.fixture(scope="module")
def digests():
    tokens, patches, images, labels, copy_group = _samples()
    out = {}
    for case in CASES:
        balance, k, dp, phase, remainder = case
        cfg = PackConfig(context_length=2048, max_vit_patches=4096, max_images_per_pack=6, dp_size=dp, grad_accum=k,
                         balance=balance, vit_phase=phase, remainder=remainder, packs_per_shard=3)
        plan = plan_packs(tokens, patches, images, cfg, labels=labels, copy_group=copy_group)
        out[_key(case)] = _digest(assemble_steps(plan, cfg, 17))
    return out


def test_step_assembly_grid_matches_its_golden_digests(digests):
    if os.environ.get("VLPACK_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert sorted(want) == sorted(digests)
    changed = [k for k in sorted(want) if want[k] != digests[k]]
    assert changed == [], f"step assembly changed for {changed}"


def test_the_grid_reaches_every_path(digests):
    """The cases differ from each other (no two configurations collapse to one output), so each
    stored digest guards its own path."""
    assert len(set(digests.values())) >= len(CASES) - 4
