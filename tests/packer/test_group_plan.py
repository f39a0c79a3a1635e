"""Planning in groups (issue 15): the interleave of the groups' steps, and a plan made of many
groups that keeps every promise a single plan makes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.group_plan import global_steps, group_count, pack_number, shard_index
from schemas.config import parse_job_config
from schemas.pack_config import PackConfig


def _brute_order(counts: list[int]) -> dict[tuple[int, int], int]:
    from fractions import Fraction

    keys = sorted(((Fraction(2 * s + 1, 2 * c), g, s) for g, c in enumerate(counts) for s in range(c)))
    return {(g, s): i for i, (_, g, s) in enumerate(keys)}


@given(st.lists(st.integers(0, 40), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_global_steps_equal_a_sort_by_fraction_of_the_run(counts):
    want = _brute_order(counts)
    got = {}
    for g, c in enumerate(counts):
        for s, i in zip(range(c), global_steps(counts, g, np.arange(c)).tolist()):
            got[(g, s)] = i
    assert got == want
    assert sorted(got.values()) == list(range(sum(counts)))


def test_group_count_bounds_rows_and_bytes():
    cfg = PackConfig(plan_group_samples=100, plan_group_bytes=1 << 20)
    assert group_count(0, 0, cfg) == 1
    assert group_count(100, 1000, cfg) == 1
    assert group_count(101, 1000, cfg) == 2
    assert group_count(50, 3 << 20, cfg) == 4  # ids too long for one group's memory: split


def test_pack_number_and_shard_follow_step_rank_micro():
    cfg = PackConfig(dp_size=3, micro_batch=2, grad_accum=1, packs_per_shard=3)
    step = np.array([0, 0, 0, 1, 1, 2])
    rank = np.array([0, 0, 2, 1, 1, 2])
    micro = np.array([0, 1, 1, 0, 1, 0])
    assert pack_number(step, rank, micro, cfg).tolist() == [0, 1, 5, 8, 9, 16]
    assert shard_index(step, micro, cfg).tolist() == [0, 0, 0, 0, 1, 1]


def _index(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    sources = np.array(["web", "coco", "ground"])[rng.integers(0, 3, n)]
    tokens = np.clip(rng.lognormal(6.0, 0.8, n), 20, 3000).astype(np.int32)
    images = rng.integers(0, 3, n).astype(np.int32)
    patches = (images * rng.integers(16, 400, n)).astype(np.int32)
    status = np.where(rng.random(n) < 0.1, "filtered", "ok")
    return pa.table({
        "sample_id": [f"{s}/{i:06d}" for s, i in zip(sources, range(n))], "copy": pa.array(np.zeros(n, np.int32)),
        "source": sources.tolist(), "task": ["caption"] * n, "status": status.tolist(),
        "reason": [None if s == "ok" else "filter.url" for s in status], "detail": pa.nulls(n, pa.string()),
        "dup_of": pa.nulls(n, pa.string()),
        "lang": ["en"] * n, "lang_score": pa.array(np.ones(n, np.float32)), "text_tokens": tokens,
        "vision_tokens": pa.array(np.zeros(n, np.int32)), "loss_tokens": pa.array((tokens // 2).astype(np.int32)),
        "total_tokens": tokens, "vit_patches": patches, "n_images": images,
        "repairs": pa.nulls(n, pa.list_(pa.string())),
        **{c: pa.nulls(n, pa.float32()) for c in ("nsfw_score", "clip_score", "lm_perplexity", "lm_repetition", "junk_score")},
    })


@pytest.mark.parametrize("remainder", ["drop", "pad", "repeat"])
@pytest.mark.parametrize("n_groups", [1, 5])
def test_a_plan_of_many_groups_keeps_every_promise(n_groups, remainder):
    from jobs.planning import plan_in_process

    cfg = parse_job_config({"sources": [{"name": "web", "format": "jsonl", "path": "x"}],
                            "pack": {"context_length": 4096, "dp_size": 4, "micro_batch": 1, "grad_accum": 2,
                                     "packs_per_shard": 3, "remainder": remainder}})
    index = _index(3000)
    parts = plan_in_process(cfg, index, n_groups=n_groups)
    ledger = pa.concat_tables([p.ledger for p in parts])
    packs = pa.concat_tables([p.packs for p in parts]).sort_by("pack_id")
    assign = pa.concat_tables([p.assign for p in parts])
    # every row once, with a fate
    assert sorted(ledger.column("sample_id").to_pylist()) == sorted(index.column("sample_id").to_pylist())
    assert set(ledger.column("status").to_pylist()) <= {"packed", "filtered", "too_long", "remainder"}
    # packs numbered 0..N-1 (padding fillers are numbered by the driver and are absent here)
    S = cfg.pack.packs_per_step
    pid = packs.column("pack_id").to_numpy()
    fillers = 0 if remainder != "pad" else (-len(pid)) % S
    if remainder == "pad":  # the padding fillers (no samples) take the ids left free
        assert len(np.unique(pid)) == len(pid) and int(pid.max()) < len(pid) + fillers
    else:
        assert pid.tolist() == list(range(len(pid)))
    # equal packs per rank in every step
    steps = packs.column("step").to_numpy()
    ranks = packs.column("rank").to_numpy()
    counts = np.zeros((int(steps.max()) + 1, cfg.pack.dp_size), int)
    np.add.at(counts, (steps, ranks), 1)
    if remainder != "pad":
        assert (counts == cfg.pack.packs_per_rank_step).all()
    # a pack's rows sum to its tokens; packed rows point at real packs
    packed = ledger.filter(pc.equal(ledger.column("status"), "packed"))
    tokens = dict(zip(packs.column("pack_id").to_pylist(), packs.column("real_tokens").to_pylist()))
    per_pack: dict[int, int] = {}
    for p, t in zip(packed.column("pack_id").to_pylist(), packed.column("total_tokens").to_pylist()):
        per_pack[p] = per_pack.get(p, 0) + t
    originals = packs.filter(pc.invert(packs.column("is_filler")))
    assert per_pack == {p: tokens[p] for p in originals.column("pack_id").to_pylist()}
    assert max(per_pack.values()) <= cfg.pack.context_length
    # the assignment holds one row per (sample, pack) occurrence, repeats included
    assert assign.num_rows == int(pc.sum(packs.column("n_samples")).as_py())
    # remainder: less than one step's worth of packs dropped over the whole job
    dropped = ledger.filter(pc.equal(ledger.column("status"), "remainder"))
    if remainder != "drop":
        assert dropped.num_rows == 0
    n_packs_all = len(pid) + fillers
    assert n_packs_all % S == 0


def test_many_groups_cost_at_most_one_partial_pack_per_group():
    from jobs.planning import plan_in_process
    from packer.packing import lower_bound

    cfg = parse_job_config({"sources": [{"name": "web", "format": "jsonl", "path": "x"}],
                            "pack": {"context_length": 4096, "dp_size": 2, "micro_batch": 1, "grad_accum": 1,
                                     "remainder": "pad"}})
    index = _index(6000, seed=3)
    ok = index.filter(pc.equal(index.column("status"), "ok"))
    lb = lower_bound(ok.column("total_tokens").to_numpy(), ok.column("vit_patches").to_numpy(), cfg.pack,
                     images=ok.column("n_images").to_numpy())
    for g in (1, 8):
        real = sum(int(pc.sum(pc.invert(p.packs.column("is_filler"))).as_py()) for p in plan_in_process(cfg, index, g))
        assert real <= lb * 1.001 + g + 1, (g, real, lb)


def test_planning_groups_get_one_set_of_shapes():
    """Each group's histograms merge on the driver into the job's buckets; each group's packs are
    then padded to those (no more shapes than max_shapes over the job), with costs moved exactly."""
    import pyarrow as pa

    from packer.buckets import merge_histograms
    from packer.group_plan import apply_shapes, group_histograms, plan_group
    from packer.packing import choose_shape_buckets, costs_on_shapes

    rng = np.random.default_rng(5)
    cfg = PackConfig(context_length=8192, max_vit_patches=16384, dp_size=2)
    parts = []
    for g in range(3):
        n = 600
        has = rng.random(n) < 0.5
        img = np.where(has, rng.integers(1, 3, n), 0)
        pat = np.where(has, 4 * rng.integers(16, 600, n) * img, 0)
        tok = (pat // 4 + rng.integers(10, 900, n)).astype(np.int64)
        index = pa.table({"sample_id": [f"s{g}-{i:05d}" for i in range(n)], "copy": np.zeros(n, np.int32),
                          "source": ["a" if i % 3 else "b" for i in range(n)], "task": ["caption"] * n,
                          "status": ["ok"] * n, "reason": [None] * n, "total_tokens": tok, "vit_patches": pat,
                          "n_images": img, "loss_tokens": tok // 4})
        parts.append(plan_group(index, cfg, 0, g).packs)
    hists = [group_histograms(p, cfg) for p in parts]
    shapes = choose_shape_buckets(merge_histograms([h[0] for h in hists]), merge_histograms([h[1] for h in hists]), cfg)
    padded = [apply_shapes(p, cfg, shapes) for p in parts]
    job = {(int(a), int(b)) for p in padded for a, b in zip(p.column("seq_len").to_pylist(), p.column("vit_bucket").to_pylist())}
    assert len(job) <= cfg.max_shapes
    for before, after in zip(parts, padded):
        vb = after.column("vit_bucket").to_numpy()
        assert (vb >= after.column("vit_patches").to_numpy()).all() and set(vb.tolist()) <= set(shapes.vit) | {0}
        # the moved costs equal costs computed afresh on the new shapes (attention terms kept)
        attn = after.column("attn_cost").to_numpy()
        llm = costs_on_shapes(after.column("seq_len").to_numpy(), vb, attn, np.zeros(len(vb)), cfg).llm_cost
        assert np.allclose(after.column("llm_cost").to_numpy(), llm)
        assert np.allclose(after.column("cost").to_numpy() - after.column("vit_cost").to_numpy(), llm)
        assert after.column("local_pack").equals(before.column("local_pack"))
