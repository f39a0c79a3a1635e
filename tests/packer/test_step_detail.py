"""Per-step statistics that do not grow past a bound: the merged per-(step, rank) and per-(label,
step) grids are flat numpy arrays (`CellGrid`, exact sums as integer limbs in `ExactSums`) that
merge exactly and in any order; above `output.per_step_detail_max_steps` steps stats.json
summarises its per-step lists (the worst steps, means and fixed-bin histograms), and the warnings,
the HTML report, `vlpack inspect` and the trainer bridge work on such an output."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from packer.partial_stats import CellGrid, ExactSums, exact_float_sums, part_stats, scaled_to_float
from packer.stats import RATIO_EDGES, WORST_STEPS, Z_EDGES, compute_stats, report_warnings
from schemas.config import JobConfig

from test_stats_merge import _common, _corpus, _same, _split, _stats_from_parts

SMALL = 3  # steps above which the tests' stats are summarised


def _cfg(max_steps: int | None = None) -> JobConfig:
    cfg = {"sources": [{"name": s, "format": "jsonl", "path": s, "weight": w, "task": t}
                       for s, w, t in (("a", 1.0, "caption"), ("b", 2.5, "caption"), ("c", 0.5, "ocr"))],
           "pack": {"context_length": 4096, "dp_size": 3}}
    if max_steps is not None:
        cfg["output"] = {"per_step_detail_max_steps": max_steps}
    return JobConfig.model_validate(cfg)


# ---- exact sums as limbs ------------------------------------------------------------------------

huge = st.integers(-(1 << 1300), 1 << 1300)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(huge, st.integers(-5, 5), st.builds(lambda m, e: m << e, st.integers(-2**53, 2**53),
                                                                      st.integers(0, 1200))), max_size=12))
def test_exact_sums_hold_any_integer_and_add_exactly(values):
    e = ExactSums.of(values)
    assert e.ints() == values
    rng = random.Random(len(values))
    cells = [rng.randrange(3) for _ in values]
    split = rng.randrange(len(values) + 1)
    a, b = ExactSums.of(values[:split]), ExactSums.of(values[split:])
    got = ExactSums.scatter(np.asarray(cells, np.int64), 3, [a, b])
    want = [sum(v for v, c in zip(values, cells) if c == k) for k in range(3)]
    assert got.ints() == want
    again = ExactSums.scatter(np.asarray(cells[split:] + cells[:split], np.int64), 3, [b, a])
    assert again.low == got.low and np.array_equal(again.limbs, got.limbs)  # one form per value
    assert np.array_equal(got.limbs, ExactSums.of(want).limbs) and got.low == ExactSums.of(want).low
    assert e.minus(e).ints() == [0] * len(values)


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.lists(st.one_of(huge, st.integers(-3, 3), st.builds(
    lambda m, e: m << e, st.integers(-2**40, 2**40), st.integers(0, 400))), max_size=5), min_size=1, max_size=5))
def test_cells_laid_one_after_another_keep_the_one_form(pieces):
    got = ExactSums.concat([ExactSums.of(p) for p in pieces])
    want = ExactSums.of([v for p in pieces for v in p])
    assert got.low == want.low and np.array_equal(got.limbs, want.limbs)


def test_float_sums_round_as_the_python_ints_do():
    rng = np.random.default_rng(3)
    v = np.concatenate((rng.random(500) * 1e12, rng.random(500) * 1e-9, [2.0 ** -1074, 1e300, -3.5]))
    groups = rng.integers(0, 7, len(v))
    ints = exact_float_sums(v, groups, 7)
    assert ExactSums.of(ints).floats().tolist() == [scaled_to_float(x) for x in ints]


def test_cell_grids_merge_exactly_in_any_order():
    cfg = _cfg()
    ledger, packs = _corpus(5, 400)
    parts = [part_stats(lg, pk, cfg) for lg, pk in _split(ledger, packs, 6, 5)]
    whole = part_stats(ledger, packs, cfg)
    for seed in range(4):
        random.Random(seed).shuffle(parts)
        grid, mix = CellGrid(), {}
        for p in parts:
            grid = grid.merge(p.balance)
            mix = {k: mix.get(k, CellGrid()).merge(g) for k, g in p.mix_cells.items()}
        for got, want in [(grid, whole.balance)] + [(mix[k], whole.mix_cells[k]) for k in whole.mix_cells]:
            assert np.array_equal(got.keys, want.keys) and np.array_equal(got.n, want.n) and got.labels == want.labels
            assert all(np.array_equal(got.ints[k], want.ints[k]) for k in want.ints)
            assert all(np.array_equal(got.floats[k].limbs, want.floats[k].limbs)
                       and got.floats[k].low == want.floats[k].low for k in want.floats)


def test_parts_that_own_their_steps_merge_by_laying_them_one_after_another():
    """Planning groups own their steps: merged one at a time as the driver does, their grids are
    the one-part grids; so are they merged past MAX_PENDING_GRIDS, and in reverse."""
    import pyarrow as pa

    from packer import partial_stats

    cfg = _cfg()
    ledger, packs = _corpus(9, 400)
    step = np.asarray(packs.column("step").to_numpy())
    group = step // 2
    pid_group = dict(zip(packs.column("pack_id").to_pylist(), group.tolist()))
    row_group = np.asarray([pid_group.get(p, -1) if p is not None else -1 for p in ledger.column("pack_id").to_pylist()])
    parts = [part_stats(ledger.filter(pa.array(row_group == g)), packs.filter(pa.array(group == g)), cfg)
             for g in np.unique(group).tolist()]
    whole = part_stats(ledger.filter(pa.array(row_group >= 0)), packs, cfg)
    for order, pending in ((parts, 256), (parts[::-1], 3)):
        partial_stats.MAX_PENDING_GRIDS = pending
        try:
            grid = CellGrid()
            for p in order:
                grid = grid.merge(p.balance)
        finally:
            partial_stats.MAX_PENDING_GRIDS = 256
        want = whole.balance
        assert np.array_equal(grid.keys, want.keys) and np.array_equal(grid.n, want.n)
        assert all(np.array_equal(grid.floats[k].limbs, want.floats[k].limbs) for k in want.floats)
        assert [grid.floats[k].low for k in want.floats] == [want.floats[k].low for k in want.floats]


# ---- summarised per-step detail -----------------------------------------------------------------


def _both(seed: int, n: int) -> tuple[dict, dict]:
    """stats.json of one corpus in full detail and summarised."""
    ledger, packs = _corpus(seed, n)
    kw = {k: v for k, v in _common(_cfg()).items() if k != "cfg"}
    return compute_stats(packs, ledger, cfg=_cfg(), **kw), compute_stats(packs, ledger, cfg=_cfg(SMALL), **kw)


def test_above_the_bound_per_step_lists_become_worst_steps_means_and_histograms():
    full, brief = _both(11, 2500)
    n_steps = full["balance"]["n_steps"]
    assert n_steps > len(RATIO_EDGES) and "per_step_detail" not in full
    assert brief["per_step_detail"]["summarised"] and brief["per_step_detail"]["max_steps"] == SMALL
    b, fb = brief["balance"], full["balance"]
    assert "packs_grid" not in b and b["packs_per_rank_per_step_equal"] == fb["packs_per_rank_per_step_equal"]
    for col in ("real_tokens", "attn_cost", "vit_cost", "llm_cost", "cost"):
        assert not {"grid", "per_step", "max_per_step", "mean_per_step"} & set(b[col])
        for k in ("max_over_mean_worst", "max_over_mean_mean", "worst_step"):
            assert b[col][k] == fb[col][k]
        ratio = np.asarray(fb[col]["per_step"])
        order = sorted(range(n_steps), key=lambda s: (-ratio[s], s))[:WORST_STEPS]
        assert [w["step"] for w in b[col]["worst_steps"]] == order
        assert [w["value"] for w in b[col]["worst_steps"]] == ratio[order].tolist()
        assert [w["max"] for w in b[col]["worst_steps"]] == np.asarray(fb[col]["max_per_step"])[order].tolist()
        h = b[col]["max_over_mean_hist"]
        assert h["counts"] == np.histogram(ratio, bins=np.asarray(RATIO_EDGES))[0].tolist()
        assert sum(h["counts"]) + h["above"] + h["below"] == n_steps
        assert b[col]["mean_per_step_mean"] == float(np.mean(fb[col]["mean_per_step"]))
    for name in ("fused", "separate"):
        assert {k: b[f"step_time_{name}"][k] for k in ("mean", "worst", "worst_step")} == \
               {k: fb[f"step_time_{name}"][k] for k in ("mean", "worst", "worst_step")}
    m, fm = brief["mix"], full["mix"]
    assert "samples_per_step" not in m and m["samples_per_step_summary"]["max"] == max(fm["samples_per_step"])
    for key in ("by_source", "by_task"):
        for g, v in m[key].items():
            fv = fm[key][g]
            assert not [k for k in v if k.startswith("per_step")]
            assert {k: x for k, x in fv.items() if not k.startswith("per_step")} == \
                   {k: v[k] for k in fv if not k.startswith("per_step")}  # every scalar as in full detail
            assert v["worst_steps"][0]["step"] == fv["worst_step"]
            assert v["worst_steps"][0]["share"] == fv["worst_step_share"]
            assert sum(v["step_z_hist"]["counts"]) + v["step_z_hist"]["above"] == n_steps
            assert v["mean_step_share"] == float(np.mean(fv["per_step_share"]))
    assert len(Z_EDGES) == len(m["by_source"]["a"]["step_z_hist"]["edges"])
    assert report_warnings(brief) == report_warnings(full)
    assert _longest_list(full) == n_steps and _longest_list(brief) == len(RATIO_EDGES)  # nothing per step


def _longest_list(x) -> int:
    if isinstance(x, dict):
        return max((_longest_list(v) for v in x.values()), default=0)
    if isinstance(x, list):
        return max([len(x)] + [_longest_list(v) for v in x])
    return 0


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31), n_parts=st.integers(2, 6), n_buckets=st.integers(1, 3))
def test_summarised_stats_of_any_split_and_merge_order_equal_the_one_part_stats(seed, n_parts, n_buckets):
    cfg = _cfg(SMALL)
    ledger, packs = _corpus(seed, 200)
    whole = compute_stats(packs, ledger, cfg=cfg, **{k: v for k, v in _common(cfg).items() if k != "cfg"})
    split = _stats_from_parts(_split(ledger, packs, n_parts, seed), cfg, n_buckets, seed, _common(cfg))
    assert "per_step_detail" in whole
    _same(whole, split)


# ---- a real output in the summarised regime -----------------------------------------------------


@pytest.fixture(scope="module")
def summarised_out(ray_local, demo_corpus, tmp_path_factory):
    from jobs.pipeline import run_job
    from schemas.config import load_job_config

    cfg = load_job_config(demo_corpus)
    out = tmp_path_factory.mktemp("summarised") / "out"
    return run_job(cfg.model_copy(update={"output": cfg.output.model_copy(
        update={"dir": str(out), "per_step_detail_max_steps": 2})})).out_dir


@pytest.mark.slow  # a pack job of its own (~8 s); the summarised statistics are tested above without one
def test_a_real_output_summarised_reports_inspects_and_trains(summarised_out):
    from packer.report_html import write_report
    from schemas.manifest import MANIFEST_NAME, STATS_PATH, Manifest, load_index
    from trainer_bridge.dataset import PackedShardDataset

    out = summarised_out
    stats = json.loads((out / STATS_PATH).read_text())
    assert stats["per_step_detail"]["summarised"] and stats["balance"]["n_steps"] > 2
    assert "grid" not in stats["balance"]["cost"] and "worst_steps" in stats["balance"]["cost"]
    assert isinstance(report_warnings(stats), list)
    problems: list[str] = []
    html = write_report(out, problems=problems).read_text(encoding="utf-8")
    assert problems == []  # every figure of the summarised report laid out without overlaps
    assert "worst steps by modelled step time" in html and "largest deviation" in html
    from jobs.cli import app

    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    res = CliRunner().invoke(app, ["report", str(out)], env=env)
    assert res.exit_code == 0, res.output
    assert "worst steps and histograms" in res.output
    packs = load_index(out, "packs").to_pandas()
    pid = int(packs[~packs["is_filler"]]["pack_id"].iloc[0])
    res = CliRunner().invoke(app, ["inspect", str(out), "--pack", str(pid)], env=env)
    assert res.exit_code == 0, res.output
    manifest = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    n = sum(len(PackedShardDataset(out, r, manifest.dp_size)) for r in range(manifest.dp_size))
    assert n == len(packs)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(
    st.builds(lambda m, e, t: (m << e) | t, st.integers(-(1 << 60), 1 << 60), st.integers(1100, 1900),
              st.sampled_from([0, 1, 1 << 40])),
    st.builds(lambda m, e: ((1 << 53) + m) << e, st.integers(-3, 3), st.integers(1050, 1900)),  # ties
    st.integers(-5, 5)), min_size=1, max_size=6))
def test_float_sums_round_correctly_without_python_ints(values):
    """The vectorised conversion rounds every value as the division of Python ints does, ties
    (to even), sticky bits far below the 53 kept and subnormal results included."""
    want = [scaled_to_float(v) for v in values]
    assert ExactSums.of(values).floats().tolist() == want
    assert ExactSums.of(values).floats(chunk=2).tolist() == want
