"""LSH banding as plain table steps: band rows out of captions, candidate edges out of buckets.

`band_rows` turns every considered caption into a few (shard, bucket, node) rows of 18 bytes: one
per LSH band (or, without near dedup, one for its exact-text bucket) and, with `image_exact`, one
for its image bucket.
Everything that shares a bucket must meet in one place; whoever runs this (Ray in `jobs/`) groups
the rows by `shard`, a function of the bucket, and calls `bucket_edges` on each group. That is the
only global step, and it moves 18 bytes per bucket, never a caption.

`node` is the caption's exact key, so identical captions collapse to one node in a near bucket
and big boilerplate clusters do not explode into pairs. A node met twice in a bucket of band 0
(equal texts share all their buckets), of the exact band or of the image band is marked with a
self edge, so `CandidateGraph` sees it. The edges are candidates only:
`resolve` verifies them on the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from filters.dedup.minhash import BAND_SHIFT, band_bucket_keys, reserved_bucket_keys
from filters.dedup.plan import EXACT_BAND, IMAGE_BAND, CaptionRows, DedupPlan
from filters.dedup.shingles import char_shingle_hashes

_U64 = np.uint64
BAND_ROW_SCHEMA = pa.schema([("shard", pa.uint16()), ("bucket", pa.uint64()), ("node", pa.uint64())])
BAND_ROW_BYTES = 18  # fixed width, no nulls: what the shuffle moves per bucket
EDGE_SCHEMA = pa.schema([("left", pa.uint64()), ("right", pa.uint64()), ("near", pa.bool_())])
ALL_PAIRS_MAX = 16  # a bucket with more distinct nodes is linked as a star plus a chain
MAX_SHARDS = 1 << 16


def shard_count(n_band_rows: int, rows_per_shard: int = 1 << 20) -> int:
    """Power of two so that a shard holds about `rows_per_shard` band rows (~18 MiB)."""
    want = max(1, -(-n_band_rows // rows_per_shard))
    return min(MAX_SHARDS, 1 << (want - 1).bit_length())


def pass_bytes_per_caption(plan: DedupPlan, bands: range) -> int:
    """Band-row bytes per caption (at most) of the pass over `bands`."""
    reserved = plan.buckets_per_caption - (plan.bands if plan.cfg.near else 0)
    return BAND_ROW_BYTES * (len(bands) + (reserved if bands.start == 0 else 0))


def band_passes(plan: DedupPlan, max_bytes_per_caption: int) -> list[range]:
    """Split the LSH bands into even passes whose band rows take at most `max_bytes_per_caption`
    each (at least one band per pass); the exact / image buckets ride with the first pass."""
    if not plan.cfg.near:
        return [range(0)]
    reserved = pass_bytes_per_caption(plan, range(0)) // BAND_ROW_BYTES
    per_pass = max(1, max_bytes_per_caption // BAND_ROW_BYTES - reserved)
    size = -(-plan.bands // -(-plan.bands // per_pass))
    return [range(lo, min(plan.bands, lo + size)) for lo in range(0, plan.bands, size)]


def band_rows(rows: CaptionRows, plan: DedupPlan, n_shards: int, bands: range | None = None) -> pa.Table:
    """(shard, bucket, node) for every bucket of every considered caption: the LSH bands in
    `bands` (default all), plus the exact / image buckets when `bands` starts at band 0."""
    if n_shards < 1 or n_shards & (n_shards - 1) or n_shards > MAX_SHARDS:
        raise ValueError(f"n_shards must be a power of two in [1, {MAX_SHARDS}], got {n_shards}")
    cfg = plan.cfg
    bands = range(plan.bands) if bands is None else bands
    first_pass = bands.start == 0
    buckets: list[np.ndarray] = []
    nodes: list[np.ndarray] = []
    text = np.flatnonzero(rows.has_text)
    if first_pass and plan.caption_dedup and not cfg.near and text.size:  # else band 0 finds equal texts
        buckets.append(reserved_bucket_keys(rows.node[text], EXACT_BAND))
        nodes.append(rows.node[text])
    if cfg.near and text.size and len(bands):
        perms = slice(bands.start * plan.rows, bands.stop * plan.rows)
        sig = plan.hasher.signatures(*char_shingle_hashes([rows.normalised[i] for i in text], cfg.ngram), perms)
        keys = band_bucket_keys(sig, len(bands), plan.rows, rows.scope_key[text], first_band=bands.start)
        buckets.append(keys.reshape(-1))
        nodes.append(np.repeat(rows.node[text], len(bands)))
    image = np.flatnonzero(rows.has_image) if cfg.image_exact and first_pass else np.zeros(0, dtype=np.int64)
    if image.size:
        buckets.append(reserved_bucket_keys(rows.image_node[image], IMAGE_BAND))
        nodes.append(rows.node[image])
    bucket = np.concatenate(buckets) if buckets else np.zeros(0, dtype=np.uint64)
    node = np.concatenate(nodes) if nodes else np.zeros(0, dtype=np.uint64)
    shard = (bucket & _U64(n_shards - 1)).astype(np.uint16)
    return pa.table([pa.array(shard), pa.array(bucket), pa.array(node)], schema=BAND_ROW_SCHEMA)


def _group_pairs(members: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs within groups of distinct sorted nodes: all pairs up to ALL_PAIRS_MAX members,
    else star from the smallest node plus the chain of neighbours."""
    lefts, rights = [], []
    for k in np.unique(sizes[(sizes >= 2) & (sizes <= ALL_PAIRS_MAX)]):
        block = members[starts[sizes == k][:, None] + np.arange(k)]  # (groups, k)
        i, j = np.triu_indices(int(k), 1)
        lefts.append(block[:, i].reshape(-1))
        rights.append(block[:, j].reshape(-1))
    for start, size in zip(starts[sizes > ALL_PAIRS_MAX], sizes[sizes > ALL_PAIRS_MAX]):
        group = members[start:start + size]
        lefts += [np.full(size - 1, group[0]), group[1:-1]]
        rights += [group[1:], group[2:]]
    if not lefts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(lefts), np.concatenate(rights)


def bucket_edges(band: pa.Table) -> pa.Table:
    """Candidate edges of one shard of band rows: near pairs from LSH buckets, links from image
    buckets, and self edges marking nodes seen twice in an exact or image bucket."""
    bucket = band.column("bucket").to_numpy()
    node = band.column("node").to_numpy()
    if bucket.size == 0:
        return EDGE_SCHEMA.empty_table()
    order = np.lexsort((node, bucket))
    bucket, node = bucket[order], node[order]
    new_entry = np.ones(bucket.size, dtype=bool)
    new_entry[1:] = (bucket[1:] != bucket[:-1]) | (node[1:] != node[:-1])
    entry_start = np.flatnonzero(new_entry)
    multiplicity = np.diff(np.append(entry_start, bucket.size))
    e_bucket, e_node = bucket[entry_start], node[entry_start]
    band_id = (e_bucket >> _U64(BAND_SHIFT)).astype(np.int64)
    # equal texts share every bucket: band 0 (or the exact bucket without near bands) marks them
    marking = (band_id >= EXACT_BAND) | (band_id == 0)
    seen_twice = e_node[marking & (multiplicity >= 2)]
    new_group = np.ones(e_bucket.size, dtype=bool)
    new_group[1:] = e_bucket[1:] != e_bucket[:-1]
    group_start = np.flatnonzero(new_group)
    group_size = np.diff(np.append(group_start, e_bucket.size))
    group_band = band_id[group_start]
    near_groups = group_band < EXACT_BAND
    n_left, n_right = _group_pairs(e_node, group_start[near_groups], group_size[near_groups])
    group_of = np.cumsum(new_group) - 1
    in_image = (group_band == IMAGE_BAND)[group_of] & ~new_group  # every image-bucket node but the first
    i_left, i_right = e_node[group_start[group_of[in_image]]], e_node[in_image]
    left = np.concatenate((n_left, i_left, seen_twice))
    right = np.concatenate((n_right, i_right, seen_twice))
    near = np.concatenate((np.ones(n_left.size, bool), np.zeros(i_left.size + seen_twice.size, bool)))
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    # distinct (lo, hi, near) in that order: a lexsort, ~4x faster than np.unique(axis=0)'s row sort
    order = np.lexsort((near, hi, lo))
    lo, hi, near = lo[order], hi[order], near[order]
    new = np.ones(lo.size, dtype=bool)
    new[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1]) | (near[1:] != near[:-1])
    return pa.table([pa.array(lo[new]), pa.array(hi[new]), pa.array(near[new])], schema=EDGE_SCHEMA)


def shard_edges(band: pa.Table) -> pa.Table:
    """`bucket_edges` of each shard of a table that holds several shards, concatenated: the edges
    (and their count) are those of one call per shard, however the shards were grouped."""
    shard = band.column("shard").to_numpy()
    if shard.size and (shard == shard[0]).all():
        return bucket_edges(band)
    order = np.argsort(shard, kind="stable")
    cuts = np.flatnonzero(np.diff(shard[order])) + 1
    band = band.take(pa.array(order))
    edges = [bucket_edges(band.slice(lo, hi - lo)) for lo, hi in zip(np.append(0, cuts), np.append(cuts, shard.size))]
    return pa.concat_tables(edges) if edges else EDGE_SCHEMA.empty_table()


@dataclass(frozen=True)
class CandidateGraph:
    """Candidate nodes with their component, and the near pairs to verify, in one process
    (`local.dedupe_table`; the Ray stage finds the same components with `stars`).

    Only ids and edges: 16 bytes per candidate node and 16 per near pair."""

    nodes: np.ndarray  # sorted uint64
    component: np.ndarray  # int64, aligned with nodes: index of the smallest node of the component
    pair_left: np.ndarray  # uint64 nodes of each distinct near pair (left < right), sorted
    pair_right: np.ndarray

    @classmethod
    def from_edges(cls, edges: pa.Table) -> "CandidateGraph":
        from filters.dedup.clusters import connected_components, dense_ranks, sorted_distinct

        left = edges.column("left").to_numpy()
        right = edges.column("right").to_numpy()
        near = edges.column("near").to_numpy(zero_copy_only=False)
        nodes, inverse = dense_ranks(np.concatenate((left, right)))
        li, ri = inverse[: left.size], inverse[left.size:]
        component = connected_components(nodes.size, li, ri)
        packed = sorted_distinct(li[near] * nodes.size + ri[near])  # left < right: bucket_edges ordered them
        pl, pr = packed // max(nodes.size, 1), packed % max(nodes.size, 1)
        return cls(nodes=nodes, component=component, pair_left=nodes[pl], pair_right=nodes[pr])

    @property
    def labels(self) -> np.ndarray:
        """Component of each node as a node id: the smallest node of the component (uint64)."""
        return self.nodes[self.component]

    def component_of(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, component label) of each key; found is False for keys that are not candidates."""
        from filters.dedup.stars import lookup_labels

        return lookup_labels(self.nodes, self.labels, keys)
