"""Near-duplicate verification at its threshold: a candidate pair whose exact Jaccard equals the
threshold is a duplicate; a threshold one float above it keeps both; one float below joins them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from filters.dedup import DedupPlan, resolve_clusters, text_pair_jaccard
from filters.dedup.resolve import VERIFY_ROW_SCHEMA
from schemas.dedup_config import DedupConfig

# character 1-grams: {a..h} and {a..f, x, y} share 6 of 10, so the Jaccard is exactly 0.6
PAIR = ["abcdefgh", "abcdefxy"]


def _rows(captions: list[str]) -> pa.Table:
    n = len(captions)
    return pa.table([pa.array([0] * n, pa.uint16()), pa.array([0] * n, pa.int64()),
                     pa.array(np.arange(1, n + 1, dtype=np.uint64)), pa.array([f"s/{i}" for i in range(n)]),
                     pa.array(["s"] * n), pa.array(captions), pa.array([0.9] * n, pa.float32()),
                     pa.array([None] * n, pa.string()),
                     *[pa.nulls(n, f.type) for f in list(VERIFY_ROW_SCHEMA)[8:]]], schema=VERIFY_ROW_SCHEMA)


def test_the_pair_has_the_exact_jaccard():
    assert text_pair_jaccard(PAIR, np.array([0]), np.array([1]), 1).tolist() == [0.6]


@pytest.mark.parametrize(("threshold", "duplicate"), [
    (0.6, True),  # at the threshold
    (float(np.nextafter(0.6, 0.0)), True),  # the pair is just above it
    (float(np.nextafter(0.6, 1.0)), False),  # the pair is just below it
])
def test_jaccard_at_the_threshold_is_a_duplicate(threshold, duplicate):
    plan = DedupPlan.build(DedupConfig(threshold=threshold, ngram=1), seed=0)
    out = resolve_clusters(_rows(PAIR), np.array([1], np.uint64), np.array([2], np.uint64), plan)
    if duplicate:
        assert out.column("dup_of").to_pylist() == [None, "s/0"]
        assert out.column("reason").to_pylist() == [None, "dedup.near"]
    else:
        assert out.num_rows == 0
