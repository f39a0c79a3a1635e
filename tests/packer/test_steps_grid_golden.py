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


DEAL_GOLDEN = Path(__file__).parent / "data" / "deal_step_golden.json"


def _deal_cases():
    rng = np.random.default_rng(23)
    for c in range(48):
        dp, k = int(rng.integers(2, 6)), int(rng.integers(1, 5))
        n = dp * k
        V = np.round(rng.lognormal(0, 1, n) * (rng.random(n) < 0.6), 3)
        L = np.round(rng.lognormal(1, 0.7, n), 3)
        init = None
        if c % 3 == 0:  # a given start, k packs per rank
            init = rng.permutation(np.repeat(np.arange(dp), k))
        yield f"{c}", V, L, dp, k, int(rng.choice([0, 1, 3, 8])), bool(c % 2), init


def test_deal_step_golden_ranks():
    """`deal_step` on 48 random steps (2-5 ranks, 1-4 packs each, ViT-free packs, fused and separate
    phases, LPT or a given start, 0-8 swap rounds): the ranks it deals are stored."""
    from packer.steps import deal_step

    got = {key: deal_step(V, L, dp, k, rounds, separate=sep, init=init).tolist()
           for key, V, L, dp, k, rounds, sep, init in _deal_cases()}
    if os.environ.get("VLPACK_UPDATE_GOLDEN"):
        DEAL_GOLDEN.write_text(json.dumps(got, sort_keys=True) + "\n")
    want = json.loads(DEAL_GOLDEN.read_text())
    assert [k for k in sorted(want) if want[k] != got.get(k)] == []


def test_step_balance_figures_by_hand():
    from packer.steps import naive_steps, step_balance, step_balance_ratio, step_time

    step = np.array([0, 0, 0, 0, 1, 1, 1, 1, -1])
    rank = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0])
    vit = np.array([4.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 99.0])
    llm = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 99.0])
    # step 0: rank 0 has V 4, L 2; rank 1 has V 2, L 2 -> ideal 3 + 2 = 5
    assert step_balance_ratio(step, rank, vit, llm, 2, False).tolist() == [6 / 5, 1.0]
    assert step_balance_ratio(step, rank, vit, llm, 2, True).tolist() == [6 / 5, 1.0]
    vit2 = np.array([4.0, 0.0, 0.0, 2.0, 1, 0, 0, 0, 0])
    llm2 = np.array([0.0, 3.0, 0.0, 0.0, 0, 1, 0, 0, 0])
    # step 0 separate: max V 4 + max L 3 = 7 over 3 + 1.5; fused: max(4, 5) = 5 over 4.5
    assert step_balance_ratio(step, rank, vit2, llm2, 2, True)[0] == pytest.approx(7 / 4.5)
    assert step_balance_ratio(step, rank, vit2, llm2, 2, False)[0] == pytest.approx(5 / 4.5)
    assert step_balance_ratio(step, rank, vit2, llm2, 2, False)[1] == pytest.approx(1 / 1)
    assert step_balance(step, rank, vit + llm, 2).tolist() == [6 / 5, 1.0]
    assert step_balance(np.array([-1]), np.array([0]), np.array([1.0]), 2).tolist() == []
    assert step_time(np.array([1.0, 3.0]), np.array([2.0, 0.5]), True) == 5.0
    assert step_time(np.array([1.0, 3.0]), np.array([2.0, 0.5]), False) == 3.5
    s, r = naive_steps(11, 2, 2)
    assert s.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1]
    assert r.tolist() == [0, 1, 0, 1, 0, 1, 0, 1, -1, -1, -1]
    s, r = naive_steps(9, 3, 1)
    assert s.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2] and r.tolist() == [0, 1, 2] * 3
