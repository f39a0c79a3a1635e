"""Verification, clustering and representatives, one group of candidate components at a time.

`verify_rows` picks, from a batch, the considered rows whose exact key is a candidate node and
tags them with their candidate component (found by `banding.CandidateGraph` in one process, by
`stars` on Ray); whoever runs this groups them by `vshard` (a function of the component) so each
component lands whole in one call of `resolve_clusters`. There the rows are joined by three kinds
of verified edges, in order:
1. exact: equal normalised caption in the same scope (equality on the text, not the hash);
2. image (with `image_exact`): equal media digest in the same scope;
3. near: a candidate pair whose character n-gram Jaccard is at least the threshold.
A cluster keeps its cleanest row (`keeper.quality_order`); every other row is a duplicate of it,
with reason `dedup.exact` if it was already joined to the representative after step 1,
`dedup.image` after step 2, and `dedup.near` otherwise.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.dedup.caption_key import normalise_captions
from filters.dedup.clusters import connected_components, dense_ranks, representatives, run_products, sorted_runs
from filters.dedup.keeper import quality_order
from filters.dedup.plan import CaptionRows, DedupPlan, row_scopes
from filters.dedup.shingles import mix64
from filters.dedup.verify import pairs_at_least, sketched_once

VERIFY_ROW_SCHEMA = pa.schema([
    ("vshard", pa.uint16()),
    ("component", pa.uint64()),
    ("node", pa.uint64()),
    ("sample_id", pa.string()),
    ("source", pa.string()),
    ("caption", pa.string()),
    ("lang_score", pa.float32()),
    ("image_digest", pa.string()),
    ("n_repairs", pa.int32()),
    ("lm_perplexity", pa.float32()),
])
CLUSTER_ROW_SCHEMA = pa.schema([
    ("sample_id", pa.string()),
    ("source", pa.string()),
    ("dup_of", pa.string()),  # null for the representative
    ("reason", pa.string()),  # null for the representative
    ("cluster_size", pa.int32()),
    ("caption", pa.string()),  # the representative's caption, for the largest clusters only
])
REASON_EXACT, REASON_IMAGE, REASON_NEAR = "dedup.exact", "dedup.image", "dedup.near"
TOP_CAPTIONS = 20
PAIRS_PER_CHUNK = 20_000  # verified at once: ~5M shingles, ~150 MB of temporaries at most
# Candidate pairs expanded to row positions and verified per call of `_near_pairs`: a giant candidate
# component's pairs take ~150 bytes each while they are expanded and bounded, so they go a slice at a
# time (a 10M-sample run's giant component had a resolve task killed at 14.8 GB when they went at once).
CANDIDATE_PAIRS_PER_CALL = 1 << 22
TOP_CAPTION_CHARS = 300


def verify_shard_of(component: np.ndarray, n_vshards: int) -> np.ndarray:
    return (mix64(component.astype(np.uint64)) & np.uint64(n_vshards - 1)).astype(np.uint16)


def verify_rows(rows: CaptionRows, candidate: np.ndarray, component: np.ndarray, n_vshards: int) -> pa.Table:
    """The considered rows that belong to a candidate component (`candidate`, with `component` =
    its label, the smallest node of the component; both aligned with `rows`), tagged for the verify
    shuffle."""
    keep = np.flatnonzero(candidate)
    pick = keep.tolist()
    columns = [
        pa.array(verify_shard_of(component[keep], n_vshards)),
        pa.array(component[keep]),
        pa.array(rows.node[keep]),
        pa.array([rows.sample_id[i] for i in pick], pa.string()),
        pa.array([rows.source[i] for i in pick], pa.string()),
        pa.array([rows.caption[i] for i in pick], pa.string()),
        pa.array(rows.lang_score[keep], pa.float32()),
        pa.array([rows.image_digest[i] for i in pick], pa.string()),
        pa.array(rows.n_repairs[keep], pa.int32()),
        pa.array(rows.lm_perplexity[keep], pa.float32()),
    ]
    return pa.table(columns, schema=VERIFY_ROW_SCHEMA)


def _first_index(keys: list) -> np.ndarray:
    """For each position, the first position holding an equal key."""
    first: dict = {}
    return np.fromiter((first.setdefault(k, i) for i, k in enumerate(keys)), dtype=np.int64, count=len(keys))


def _near_edges(plan: DedupPlan, node: np.ndarray, exact_class: np.ndarray, scope_class: np.ndarray,
                normalised: list[str], pair_left: np.ndarray, pair_right: np.ndarray) -> np.ndarray:
    """Verified near edges between exact classes (as row positions of their first members)."""
    heads = np.unique(exact_class)  # one row per exact class
    head_node = node[heads]
    order = np.argsort(head_node, kind="stable")
    heads, head_node = heads[order], head_node[order]
    step = CANDIDATE_PAIRS_PER_CALL
    sketched = None
    if pair_left.size > step:  # the pairs go in several calls: each head's text is sketched once for all
        sketched = sketched_once(normalised, heads, plan.cfg.ngram)
    found = [_near_pairs(plan, heads, head_node, scope_class, normalised, pair_left[lo:lo + step],
                         pair_right[lo:lo + step], sketched) for lo in range(0, pair_left.size, step)]
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def _near_pairs(plan: DedupPlan, heads: np.ndarray, head_node: np.ndarray, scope_class: np.ndarray,
                normalised: list[str], pair_left: np.ndarray, pair_right: np.ndarray,
                sketched: tuple | None = None) -> np.ndarray:
    """The verified near edges of some candidate pairs (nodes), as row positions of exact-class
    heads (`heads`, sorted by their node `head_node`); `sketched`: see `verify.pairs_at_least`."""
    # a node owns several exact classes only on a 64-bit key collision: pair every class of each side
    _, a, b = run_products(*sorted_runs(head_node, pair_left), *sorted_runs(head_node, pair_right))
    a, b = heads[a], heads[b]
    same_scope = scope_class[a] == scope_class[b]
    a, b = a[same_scope], b[same_scope]
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    ok = _verified(normalised, a, b, plan, sketched)
    return np.stack([a[ok], b[ok]], axis=1)


def _verified(texts: list[str], a: np.ndarray, b: np.ndarray, plan: DedupPlan, sketched: tuple | None = None
              ) -> np.ndarray:
    """Whether J(texts[a[k]], texts[b[k]]) >= threshold, for every pair (`verify.pairs_at_least`):
    each text is sketched once for its bound (once for all the calls of a giant candidate component,
    whose pairs go CANDIDATE_PAIRS_PER_CALL at a time) and shingled at most once more per call for
    its exact set, however many pairs name it; PAIRS_PER_CHUNK pairs are compared at a time."""
    return pairs_at_least(texts, a, b, plan.cfg.ngram, plan.cfg.threshold, chunk=PAIRS_PER_CHUNK, sketched=sketched)


def resolve_clusters(rows: pa.Table, pair_left: np.ndarray, pair_right: np.ndarray, plan: DedupPlan,
                     top_captions: int = TOP_CAPTIONS) -> pa.Table:
    """Cluster rows (whole candidate components) and name each duplicate's representative.

    Returns one CLUSTER_ROW_SCHEMA row per member of every cluster of two or more rows; the output
    depends only on the set of input rows, not their order."""
    cfg = plan.cfg
    if rows.num_rows == 0:
        return CLUSTER_ROW_SCHEMA.empty_table()
    rows = rows.take(pc.sort_indices(rows, [("sample_id", "ascending")]))
    sample_id = rows.column("sample_id").to_pylist()
    twice = next((a for a, b in zip(sample_id, sample_id[1:]) if a == b), None)
    if twice is not None:
        raise ValueError(f"sample_id {twice!r} is on two considered rows (status ok, copy 0); dedup needs "
                         f"unique sample ids")
    source = rows.column("source").to_pylist()
    caption = rows.column("caption").to_pylist()
    digest = rows.column("image_digest").to_pylist()
    node = rows.column("node").to_numpy()
    n = len(sample_id)
    normalised = normalise_captions(caption)
    scopes = row_scopes(source, cfg)
    with_image = cfg.key == "caption+image"
    scope_class = _first_index([(s, d if with_image else None) for s, d in zip(scopes, digest)])
    exact_class = _first_index([(scope_class[i], t if t else ("\0", sample_id[i])) for i, t in enumerate(normalised)])
    positions = np.arange(n, dtype=np.int64)
    joined = exact_class != positions
    exact = np.stack([positions[joined], exact_class[joined]], axis=1)
    none = np.zeros((0, 2), dtype=np.int64)
    image = none
    if cfg.image_exact:
        has = [d is not None for d in digest]
        image_class = _first_index([(s, d) if h else ("\0", i) for i, (s, d, h) in enumerate(zip(scopes, digest, has))])
        linked = image_class != positions
        image = np.stack([positions[linked], image_class[linked]], axis=1)
    near = none
    if cfg.near and pair_left.size:
        near = _near_edges(plan, node, exact_class, scope_class, normalised, pair_left, pair_right)
    stage1 = exact if cfg.exact else none
    stage3 = near if cfg.exact or not cfg.near else np.concatenate((near, exact))
    labels = []
    edges = none
    for stage in (stage1, image, stage3):
        edges = np.concatenate((edges, stage))
        labels.append(connected_components(n, edges[:, 0], edges[:, 1]))
    size = np.bincount(labels[2], minlength=n)[labels[2]]
    member = np.flatnonzero(size >= 2)
    if member.size == 0:
        return CLUSTER_ROW_SCHEMA.empty_table()
    # only members of clusters of two or more are ranked: a row alone is its own representative,
    # and a cluster's ranking reads its own members only
    lang = rows.column("lang_score").to_numpy(zero_copy_only=False).astype(np.float64)
    ppl = pc.fill_null(rows.column("lm_perplexity"), np.nan).to_numpy(zero_copy_only=False)
    cluster = dense_ranks(labels[2][member])[1]
    order = quality_order([caption[i] for i in member], lang[member], [sample_id[i] for i in member], cluster,
                          pc.fill_null(rows.column("n_repairs"), 0).to_numpy(zero_copy_only=False)[member], ppl[member])
    rep = positions.copy()
    rep[member] = member[representatives(cluster, order)]
    is_rep = rep == positions
    reason = np.where(labels[0] == labels[0][rep], REASON_EXACT,
                      np.where(labels[1] == labels[1][rep], REASON_IMAGE, REASON_NEAR))
    # captions of the largest clusters: size descending, then representative sample_id
    rep_rows = np.flatnonzero(is_rep & (size >= 2))
    top = rep_rows[np.lexsort((rep_rows, -size[rep_rows]))[:top_captions]]  # rows sorted by id already
    shown = np.zeros(n, dtype=bool)
    shown[top] = True
    return pa.table([
        pa.array([sample_id[i] for i in member], pa.string()),
        pa.array([source[i] for i in member], pa.string()),
        pa.array([None if is_rep[i] else sample_id[rep[i]] for i in member], pa.string()),
        pa.array([None if is_rep[i] else str(reason[i]) for i in member], pa.string()),
        pa.array(size[member].astype(np.int32)),
        pa.array([caption[i][:TOP_CAPTION_CHARS] if shown[i] else None for i in member], pa.string()),
    ], schema=CLUSTER_ROW_SCHEMA)
