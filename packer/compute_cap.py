"""A cap on a pack's compute beyond its LLM tokens, packed as if it were ViT patches.

With one pack per rank per step, a step lasts as long as its costliest pack, and with many ranks
(dp 64: the costliest of 64) the heavy tail of the packs sets the step time. Best fit fills packs
by tokens, patches and images, so the packs that end heavy are the ones where a long document's
attention (len²) met a full load of images, or where big multi-image samples gathered: on
bench_packing's bimodal mix at context 24576, packs from 0.80 to 1.19 × the mean beside the 758
full-context documents (1.20). In ``balance: mix`` the step assembly cannot gather those into
steps of their own without moving the steps' mix, so they stay the steps' maxima.

The cap makes that compute a limit of the packing itself. An item's compute beyond its linear LLM
part (attention, ViT) is written in ViT patches (``ceil(excess / per_patch)``, per_patch the ViT's
linear cost of one patch; never fewer than its real patches), and best fit packs those virtual
patches against ``(1 + slack) ×`` the mean excess of a pack at the lower bound, where that is at
most ``max_vit_patches`` (else there is no cap: the compute fills packs anyway). Since the virtual
patches are at least the real ones and the cap is at most ``max_vit_patches``, every pack still
keeps the real patch limit; tokens and images are checked as they are. An item
whose own compute is over the cap (a document of 18k tokens or more there) keeps one virtual patch
per token of the room it leaves, so short texts still fill its pack (its pack ends over the cap
by their attention only) instead of the room going to waste.

Measured on the bimodal mix (400,000 samples, one pack per rank per step, ``balance: mix``, slack
0.05; `bench/bench_packing.py` and the same plan and assembly at other dp): packs +0.5% (33,821
against 33,656; lower bound 33,655); mean / worst step max/mean and the modelled training time (the
sum over steps of the costliest rank, per pack dealt to a step: the remainder differs), capped
against not:

- dp 64: 1.019 / 1.078 against 1.048 / 1.099, time -1.7%;
- dp 32: 1.016 / 1.072 against 1.035 / 1.134, time -0.8%;
- dp 16: 1.012 / 1.046 against 1.021 / 1.061, time +0.2% (the extra packs);
- dp 8: 1.008 / 1.038 against 1.012 / 1.036, time +0.7%.

``compute_cap: auto`` turns it on where the time was measured to fall: mix mode, one pack per rank
per step, a fused ViT phase, dp >= `AUTO_MIN_DP`, and samples with images; ``on`` at any dp.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

AUTO_MIN_DP = 32  # compute_cap "auto": from this many ranks the cap was measured to shorten training


class CappedPatches(NamedTuple):
    """Per-item virtual patches and the cap to pack them against (in place of the real ones)."""

    patches: np.ndarray  # int64 per item
    limit: int


def caps_compute(cfg, has_images: bool) -> bool:
    """Whether a plan packs under the compute cap (``cfg.compute_cap``; "auto": see the module)."""
    if cfg.compute_cap == "off" or not has_images or patch_cost(cfg) <= 0:
        return False
    if cfg.compute_cap == "on":
        return True
    return (cfg.balance == "mix" and cfg.packs_per_rank_step == 1 and cfg.vit_phase == "fused"
            and cfg.dp_size >= AUTO_MIN_DP)


def patch_cost(cfg) -> float:
    """The ViT's linear cost of one patch (every layer, and the window attention of the others): the
    compute model's ViT cost of one patch without its full attention."""
    from packer.packing import costs_on_shapes  # (packer.packing imports this module)

    return float(costs_on_shapes(0.0, 1.0, 0.0, 0.0, cfg).vit_cost)


def capped_patches(t: np.ndarray, p: np.ndarray, excess: np.ndarray, n_packs: int, cfg) -> CappedPatches | None:
    """The virtual patches of items of ``t`` tokens, ``p`` real patches and ``excess`` compute beyond
    their linear LLM cost, for a plan of about ``n_packs`` packs (its lower bound); None where the
    cap would be over ``max_vit_patches`` (it could not stand for the real patch limit as well)."""
    per_patch = patch_cost(cfg)
    P, C = cfg.max_vit_patches, cfg.context_length
    mean = float(excess.sum()) / per_patch / max(n_packs, 1)
    limit = int(mean * (1.0 + cfg.compute_cap_slack))
    if limit > P or limit < int(p.max(initial=0)) or limit <= 0:
        return None
    own = np.ceil(excess / per_patch).astype(np.int64)
    vp = np.maximum(own, p)
    over = vp > limit
    # An item over the cap: one virtual patch per token of the room it leaves goes to fillers (texts in
    # that room add less attention than the longest text's over its own: (C - t)² <= C² - t²). Images are
    # another matter: one runs the ViT on its pack's padded patch bucket. Where a text over the cap is
    # within a mean pack's real patches of the costliest item's compute (a full-context document's), it
    # takes texts only (fewer virtual patches than any image item has): a document of 23,800 tokens with a
    # one-image sample of 778 tokens, padded to 23,552 patches, was the costliest pack of bench_packing's
    # bimodal mix, 1.235x the mean pack (a full-context document: 1.191x).
    room = C - t[over]
    images = p > 0
    if images.any():
        near_top = (p[over] == 0) & (int(own.max(initial=0)) - own[over] < float(p.sum()) / max(n_packs, 1))
        room = np.where(near_top, np.minimum(room, int(vp[images].min()) - 1), room)
    vp[over] = np.maximum(p[over], limit - room)
    return CappedPatches(np.minimum(vp, limit), limit)
