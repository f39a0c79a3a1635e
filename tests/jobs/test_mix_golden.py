"""Golden values of the mix sampling (`jobs.stages.mix_copies`): how many copies of each sample a
fractional weight keeps. Stored outputs: a failure means the same corpus, weights and seed now train
on other samples. If deliberate, update the values in the same commit and say so."""

from __future__ import annotations

import numpy as np

from jobs.stages import mix_copies

IDS = [f"web/{i:03d}" for i in range(16)]
WEIGHTS = np.array([0.25] * 8 + [1.75] * 8)


def test_mix_copies_golden_values():
    assert mix_copies(IDS, WEIGHTS, 0).tolist() == [1, 0, 0, 0, 0, 0, 1, 0, 1, 2, 2, 1, 1, 2, 2, 2]
    assert mix_copies(IDS, WEIGHTS, 1).tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 2, 2, 2, 1, 2, 2, 2, 2]


def test_whole_weights_are_exact_and_order_does_not_matter():
    assert mix_copies(IDS, np.array([0.0] * 8 + [1.0] * 4 + [3.0] * 4), 5).tolist() == [0] * 8 + [1] * 4 + [3] * 4
    order = np.random.default_rng(0).permutation(16)
    assert mix_copies([IDS[i] for i in order], WEIGHTS[order], 0).tolist() == \
        mix_copies(IDS, WEIGHTS, 0)[order].tolist()
