"""Step assembly paths the other step tests do not reach (issue 21's mutation survivors of
packer/steps.py, docs/mutation.md):

- ``balance: mix`` where no lean keeps the mix (`_mix_steps` returns a = -1): units dealt over all
  steps by their dominant label (`_mix_cells_steps`), or, where that keeps the mix no better than
  the loads at a = 0 on both counts, those loads (lean 0);
- copies of a sample held by pack 0 (unit 0) kept apart like any other;
- `deal_step` under costs scaled by a power of two (its tolerances are relative to the costs);
- the remainder of a plan made for another step size, dropped among the least filled packs
  (with groups: keeping their mix).

Golden digests pin the exact output of each case: regenerate with ``VLPACK_UPDATE_GOLDEN=1`` only
for a deliberate change, and say so in the commit message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from test_steps import check_steps
from test_steps_grid_golden import _deal_cases, _digest, _samples

import packer.steps as steps
from packer.packing import plan_packs
from packer.steps import assemble_steps, composition_order, deal_step, seeded_hash
from schemas.pack_config import PackConfig

GOLDEN = Path(__file__).parent / "data" / "steps_fallback_golden.json"
_UPDATE = bool(os.environ.get("VLPACK_UPDATE_GOLDEN"))


def _golden(key: str, digest: str) -> None:
    want = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if _UPDATE:
        want[key] = digest
        GOLDEN.write_text(json.dumps(want, indent=1, sort_keys=True) + "\n")
    assert want.get(key) == digest, f"step assembly changed for {key}"


def _cfg(dp: int, k: int, phase: str, balance: str = "mix", **kw) -> PackConfig:
    return PackConfig(context_length=2048, max_vit_patches=4096, max_images_per_pack=6, dp_size=dp, grad_accum=k,
                      balance=balance, vit_phase=phase, **kw)


def _partition(sp, pack_of_row) -> set[frozenset]:
    """The steps as sets of plan packs (step numbers are a seeded order, so compare sets)."""
    return {frozenset(pack_of_row[sp.step == s].tolist()) for s in range(sp.n_steps)}


# (samples, seed, dp, k, phase, copies): what the documented rule decides for each, with the
# figures that decide it (unit steps keep the mix? a = 0 loads' spread / shares beyond the
# tolerance no worse than the units'?)
FALLBACK = {
    # units keep neither count, but the loads at a = 0 are worse on both: units
    "units-fused-neither": ((120, 0, 2, 1, "fused", False), -1.0),
    "units-separate-neither": ((120, 0, 2, 1, "separate", False), -1.0),
    # units do not keep the mix; loads have a wider spread but no more shares beyond: units
    "units-fused-spread": ((120, 0, 4, 4, "fused", False), -1.0),
    # units keep the mix
    "units-fused-kept": ((120, 0, 4, 1, "fused", False), -1.0),
    "units-separate-kept-copies": ((200, 0, 4, 4, "separate", True), -1.0),
    "units-fused-kept-copies": ((200, 0, 4, 4, "fused", True), -1.0),
    # units do not keep the mix and the loads at a = 0 are no worse on either count: loads, lean 0
    "loads-separate": ((120, 0, 4, 4, "separate", False), 0.0),
    "loads-fused-k1": ((120, 0, 8, 1, "fused", False), 0.0),
}


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_mix_fallback_when_no_lean_keeps_the_mix(name, monkeypatch):
    (n, seed, dp, k, phase, copies), lean = FALLBACK[name]
    tokens, patches, images, labels, copy_group = _samples(n, seed)
    cfg = _cfg(dp, k, phase, mix_swap_rounds=0)  # the deal itself (the swaps after it: test_step_swaps)
    plan = plan_packs(tokens, patches, images, cfg, labels=labels, copy_group=copy_group if copies else None)
    seen = {}

    def spy(fn, key):
        def wrapped(*a, **kw):
            seen[key] = out = fn(*a, **kw)
            return out
        monkeypatch.setattr(steps, fn.__name__, wrapped)

    # the offsets deal keeps the mix in every one of these: the fallback is reached by the strata
    # alone (`test_offsets_deal_keeps_the_mix_where_no_stratum_lean_does` covers the offsets)
    monkeypatch.setattr(steps, "MIX_DEALS", ("strata",))
    spy(steps._mix_steps, "loads")
    spy(steps._mix_cells_steps, "units")
    spy(steps._mix_base, "base")
    sp = assemble_steps(plan, cfg, 17)
    check_steps(sp, plan, cfg)
    assert sp.n_steps >= 2 and len(sp) == sp.n_steps * dp * k
    step_of_load, a, strat, _ = seen["loads"]
    assert a == -1.0  # no lean keeps the mix: the fallback runs
    unit_step, unit_excess = seen["units"]
    ok = steps._mix_ok(unit_excess, seen["base"].over)
    # the documented rule: units unless they keep the mix no better than the loads at a = 0 (both counts)
    assert (sp.mix_cost_lean == -1.0) == (ok or not (strat[0] <= unit_excess[0] and strat[1] <= unit_excess[1]))
    assert sp.mix_cost_lean == lean and isinstance(sp.mix_cost_lean, float)
    # the steps that come out are the chosen deal's (units are the plan's packs in order here:
    # remainder "drop", no fillers; copies may trade loads afterwards, so only without copies)
    units = np.setdiff1d(np.arange(plan.n_packs), sp.dropped_packs)
    if lean == -1.0:
        chosen = unit_step
    else:
        chosen = step_of_load[steps.rank_loads(plan.cost[units], k, steps.seeded_hash(17, np.arange(units.size)))]
    if not copies:
        assert _partition(sp, sp.pack) == {frozenset(units[chosen == s].tolist()) for s in range(sp.n_steps)}
    # the units' deal itself: every step holds dp * k units
    assert np.bincount(unit_step, minlength=sp.n_steps).tolist() == [dp * k] * sp.n_steps
    _golden(name, _digest(sp))


@pytest.mark.parametrize("balance", ["cost", "mix"])
@pytest.mark.parametrize("dp, k, tokens", [(2, 1, [1000, 1000, 600, 600]), (1, 2, [1000] * 4), (2, 2, [1000] * 8)])
def test_copies_held_by_pack_zero_are_kept_apart(balance, dp, k, tokens):
    """Two copies of one sample, the first in pack 0 (unit 0): at dp 2, k 1 the two heaviest packs
    (the copies) would form one step; with equal costs the loads and steps are drawn by the seed.
    For every seed the copies end up in two steps."""
    tokens = np.asarray(tokens)
    n = tokens.size
    group = np.where(np.arange(n) < 2, 0, -1)
    zeros = np.zeros_like(tokens)
    cfg = PackConfig(context_length=1024, dp_size=dp, grad_accum=k, balance=balance)
    plan = plan_packs(tokens, zeros, zeros, cfg, copy_group=group, labels=np.arange(n) % 2)
    assert plan.n_packs == n and plan.pack_of[0] == 0  # one sample a pack; the first copy in pack 0
    for seed in range(12):
        sp = assemble_steps(plan, cfg, seed)
        check_steps(sp, plan, cfg)
        step_of_pack = np.empty(n, np.int64)
        step_of_pack[sp.pack] = sp.step
        a, b = step_of_pack[plan.pack_of[:2]]
        assert a != b, f"seed {seed}: the copies share step {a}"
        assert sp.copies_sharing_step == 0


def test_deal_step_does_not_depend_on_the_cost_unit():
    """Scaling every cost by a power of two (exact in floating point) deals the same ranks: the
    tolerances of `deal_step` are relative to the step's costs, whether they are ~1e-9 or ~1e9."""
    for key, V, L, dp, k, rounds, sep, init in _deal_cases():
        want = deal_step(V, L, dp, k, rounds, separate=sep, init=init).tolist()
        for c in (2.0**-30, 2.0**30):
            got = deal_step(V * c, L * c, dp, k, rounds, separate=sep, init=init).tolist()
            assert got == want, (key, c)


@pytest.mark.parametrize("balance, k, dp, phase", [("mix", 2, 2, "separate"), ("mix", 1, 4, "fused"), ("mix", 4, 2, "separate"),
                                                   ("mix", 2, 4, "fused"), ("cost", 2, 2, "separate")])
def test_steps_do_not_depend_on_the_cost_unit(balance, k, dp, phase):
    """Every cost coefficient scaled by 2**-20 (costs in ~1e-3 instead of ~1e3 units; exact in
    floating point) gives the same steps: lean scores, deal tolerances and the copies' distances are
    relative to the costs."""
    tokens, patches, images, labels, copy_group = _samples(300, 2)
    cfg = _cfg(dp, k, phase, balance)
    c = 2.0**-20
    small = cfg.model_copy(update={f: getattr(cfg, f) * c for f in ("llm_token_cost", "llm_attention_cost",
                                                                   "vit_patch_cost", "vit_attention_cost")})
    plans = [plan_packs(tokens, patches, images, x, labels=labels, copy_group=copy_group) for x in (cfg, small)]
    np.testing.assert_array_equal(plans[1].cost, plans[0].cost * c)
    a, b = (assemble_steps(p, x, 3) for p, x in zip(plans, (cfg, small)))
    assert _digest(a) == _digest(b)


@pytest.mark.parametrize("kind", [[0, 0, 0], [0, 0, 0, 1, 1, 2, 2]], ids=["one kind", "three kinds"])
def test_composition_order_with_one_or_three_kinds_an_empty_row_and_an_absent_label(kind):
    """Items alike in label shares stay together whatever the number of label kinds, also with a
    row holding nothing (a padding filler) and a label no item holds (a column without spread)."""
    kind = np.asarray(kind)
    rng = np.random.default_rng(1)
    tokens = rng.random((120, kind.size))
    tokens[:60, 2::2] *= 0.1  # label 0 dominates kind 0 in the first 60 items (and 3, 5 the other
    tokens[60:, 0] *= 0.1  # kinds), label 2 in the others (and 4, 6)
    tokens[60:, 3::2] *= 0.1
    tokens[:, 1] = 0.0  # no item holds label 1
    tokens = np.concatenate((tokens, np.zeros((1, kind.size))))[rng.permutation(121)]
    order = composition_order(tokens, tokens, kind, seeded_hash(0, np.arange(121)))
    assert sorted(order.tolist()) == list(range(121))
    in_order = tokens[np.argsort(order)]
    real = in_order.sum(axis=1) > 0
    first = (in_order[:, 0] > in_order[:, 2])[real]
    assert abs(int(first[:60].sum()) - 30) >= 25  # the first half: (nearly) all of one kind of item
    _golden(f"composition_order/{kind.size}", _hash(order))
    # 72 items split into nodes of 9: the default leaf (8) splits them once more
    _golden(f"composition_order/{kind.size}/72", _hash(composition_order(tokens[:72], tokens[:72], kind,
                                                                          seeded_hash(0, np.arange(72)))))


def _hash(a: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.int64).tobytes()).hexdigest()[:24]


def test_copies_of_a_sample_too_long_to_pack_share_no_step():
    """Copy groups whose copies were never packed (too long) leave the steps as without groups and
    count no shared step."""
    rng = np.random.default_rng(4)
    tokens = np.concatenate((rng.integers(100, 900, 64), [5000, 5000]))
    group = np.where(np.arange(66) >= 64, 0, -1)
    zeros = np.zeros_like(tokens)
    cfg = PackConfig(context_length=1024, dp_size=2, grad_accum=2)
    with_groups = plan_packs(tokens, zeros, zeros, cfg, copy_group=group)
    assert with_groups.too_long[64:].all() and with_groups.copy_group is not None
    plain = assemble_steps(plan_packs(tokens, zeros, zeros, cfg), cfg, 0)
    sp = assemble_steps(with_groups, cfg, 0)
    assert _digest(sp) == _digest(plain) and sp.copies_sharing_step == 0


def test_one_step_is_cost_mode_and_counts_the_copies_it_holds():
    """A plan of one step has no mix to keep between steps (lean 1, as cost mode), and copies in it
    cannot move to another step: the step plan says how many groups share it."""
    tokens = np.array([1000, 1000, 1000, 900, 800, 700, 600, 500])
    group = np.array([0, 0, 1, 1, -1, -1, -1, -1])
    zeros = np.zeros_like(tokens)
    cfg = PackConfig(context_length=1024, dp_size=4, grad_accum=2)
    plan = plan_packs(tokens, zeros, zeros, cfg, copy_group=group, labels=np.arange(8) % 2)
    sp = assemble_steps(plan, cfg, 0)
    check_steps(sp, plan, cfg)
    assert (sp.n_steps, sp.mix_cost_lean, sp.copies_sharing_step) == (1, 1.0, 2)


@pytest.mark.parametrize("with_groups", [False, True])
def test_the_remainder_of_a_plan_made_for_another_step_size(with_groups):
    """A plan made for 8 packs a step, assembled at 7: its planned remainder does not fit, so the
    least filled packs go (ties: the later pack first); with groups, those among the least filled
    that keep the groups' mix (in samples)."""
    rng = np.random.default_rng(8)
    tokens = np.concatenate((rng.integers(530, 1000, 90), np.full(32, 520)))  # one sample a pack; 32 alike
    zeros = np.zeros_like(tokens)
    made = PackConfig(context_length=1024, dp_size=4, grad_accum=2)
    plan = plan_packs(tokens, zeros, zeros, made)
    cfg = made.model_copy(update={"dp_size": 7, "grad_accum": 1})
    rem = plan.n_packs % 7
    assert rem and plan.remainder_packs.size != rem
    assert (plan.pack_samples == 1).all()
    groups = seeded_hash(1, np.arange(plan.n_packs)).astype(np.int64) % 3 if with_groups else None
    sp = assemble_steps(plan, cfg, 0, groups=groups)
    check_steps(sp, plan, cfg)
    assert sp.dropped_packs.size == rem
    fill = plan.pack_tokens
    by_fill = np.lexsort((-np.arange(plan.n_packs), fill))
    if not with_groups:
        np.testing.assert_array_equal(sp.dropped_packs, np.sort(by_fill[:rem]))
    else:
        assert np.isin(sp.dropped_packs, by_fill[: 32 * rem + 64]).all()
    _golden(f"remainder/{with_groups}", _hash(sp.dropped_packs))


MIX_CASES = {
    # one kind of two labels (the task): still a mix to keep
    "two-labels": dict(dp=2, k=2, phase="separate", labels=lambda lab: lab[:, 1:]),
    # padding fillers hold no sample of any label
    "pad": dict(dp=4, k=1, phase="fused", remainder="pad"),
    "pad-separate": dict(dp=2, k=2, phase="separate", remainder="pad"),
    # text samples longer than the context, split into pieces in several packs
    "split": dict(dp=4, k=1, phase="fused", split_text_only=True),
    # dp not a power of two: share strata do not fall on the halves of the composition order
    "dp3": dict(dp=3, k=1, phase="fused"),
    "dp3-long": dict(dp=3, k=1, phase="separate", n=600),
}


@pytest.mark.parametrize("name", sorted(MIX_CASES))
def test_mix_mode_golden_cases(name):
    """Mix mode on plans with two labels only, padding fillers, or split samples: the steps are
    complete and their exact output is pinned."""
    kw = dict(MIX_CASES[name])
    tokens, patches, images, labels, copy_group = _samples(kw.pop("n", 240), 3)
    labels = kw.pop("labels", lambda lab: lab)(labels)
    if kw.get("split_text_only"):
        tokens = np.where((patches == 0) & (np.arange(tokens.size) % 5 == 0), tokens * 3, tokens)  # some over 2048
    cfg = _cfg(kw.pop("dp"), kw.pop("k"), kw.pop("phase"), **kw)
    turns = {}
    if kw.get("split_text_only"):  # turns of at most 400 tokens
        lengths = [[400] * (int(t) // 400) + ([int(t) % 400] if t % 400 else []) for t in tokens]
        turns = dict(turn_offsets=np.cumsum([0] + [len(x) for x in lengths]),
                     turn_tokens=np.concatenate([np.asarray(x, np.int64) for x in lengths]))
    plan = plan_packs(tokens, patches, images, cfg, labels=labels, **turns)
    if kw.get("split_text_only"):
        assert plan.piece_sample.size > 0
    sp = assemble_steps(plan, cfg, 5)
    check_steps(sp, plan, cfg)
    assert sp.mix_cost_lean != 1.0 or name == "split"
    _golden(f"mix/{name}", _digest(sp))


@pytest.mark.parametrize("dp, k, phase, n, sample_seed, seed", [(2, 2, "separate", 240, 4, 2), (4, 1, "fused", 240, 4, 2),
                                                           (2, 1, "fused", 240, 4, 2), (2, 1, "separate", 300, 2, 17),
                                                           (3, 1, "fused", 300, 2, 17)])
def test_a_label_kind_with_one_value_changes_nothing(dp, k, phase, n, sample_seed, seed):
    """Every sample of the same task: that kind's share is 1 in every step (no spread, nothing beyond
    the tolerance), so the steps are those of the other kind alone."""
    tokens, patches, images, labels, _ = _samples(n, sample_seed)
    cfg = _cfg(dp, k, phase)
    one = plan_packs(tokens, patches, images, cfg, labels=labels[:, :1])
    both = plan_packs(tokens, patches, images, cfg, labels=np.stack((labels[:, 0], np.zeros_like(labels[:, 0])), axis=1))
    a, b = assemble_steps(one, cfg, seed), assemble_steps(both, cfg, seed)
    check_steps(b, both, cfg)
    assert _digest(a) == _digest(b)
