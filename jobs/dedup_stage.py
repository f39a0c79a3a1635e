"""Dedup on Ray: the steps of `filters.dedup` as plain Ray tasks, with nothing on the driver that
grows with the number of samples.

The input's blocks are cut into at most MAX_GROUPS contiguous groups; nodes (exact keys of
captions) are spread over `parts` hash partitions (`stars.node_part`) and components over
`vshards`. Every step is tasks that each return one object per destination partition, read by
the tasks of the next step: a shuffle without a gather. The driver holds object refs (groups ×
partitions), one count per task and merged statistics (sources × reasons, 20 top captions).

1. count: considered rows per source, per group.
2. band, in passes of at most BAND_BYTES_PER_PASS bytes of band rows per caption: each group turns
   its considered captions into (shard, bucket, node) rows (`banding.band_rows`) cut by reducer;
   each reducer turns whole shards into candidate edges (`banding.shard_edges`). It keeps its
   image links, contracted to stars of their local components (`stars.contract`): an edge
   partition. It sends on, by node partition: near pairs (by their left node), nodes known only
   from self edges, and what its links say about each node for the first large-star step. Pass 0
   also sends each considered row's (node, block, position), and its (node, normalised caption),
   to its node's partition.
3. near pairs, verified before they join the components (most LSH candidates of look-alike
   captions are not near duplicates, and would chain into one giant component otherwise): per
   node partition p, the distinct pairs whose left node is in p go to the partition of their right
   node, with the texts of their left nodes (once per left node and destination); there, each pair
   is kept when the exact n-gram Jaccard of the two nodes' texts reaches the threshold
   (`verify.node_pairs_at_least`). The kept pairs of a partition are an edge partition too.
4. components: large-star / small-star rounds (`stars`) until a round is stable. The edges stay
   in their edge partitions; a step is a task per node partition that merges what the edge
   partitions said about its nodes into m(node) and answers them, then a task per edge partition
   that relinks its edges. The driver reads one count per node partition per step.
5. join, per node partition: the label of a node is the smallest node of its component
   (`stars.component_labels`); the rows and the kept near pairs meet the labels of their nodes.
   Candidate rows go back to their group, pairs on to their component's vshard.
6. gather, per group: the captions of the candidate rows (`caption_rows` of those positions only)
   go to their component's vshard, with their block and position.
7. resolve, per vshard: `resolve_clusters` on whole components, about VERIFY_ROWS_PER_SHARD rows
   at a time; each duplicate (block, position, dup_of, reason) goes back to its group, partial
   statistics (`stats.partial_statistics`) to the driver, which merges them.
8. mark, per block of a group that has duplicates: `marking.mark_duplicates` by position. The
   blocks of the other groups pass through as they are.

A shuffle part smaller than Ray's inline limit (100 KiB) would come back inside the task's reply,
into the driver's memory, and travel to its consumer through the driver: `_run` puts it into the
object store instead and returns its ref, so the driver holds refs, never rows, however many small
parts a shuffle makes. Those parts are owned by the worker that made them: if that worker dies
during the stage they are lost and the stage fails with Ray's error (run the job again); larger
parts are task returns that Ray rebuilds from lineage.

Every task's output is a function of the set of rows it sees, sorted where order matters, so
the result does not depend on block count, worker count, partition counts or the order in which
tasks finish: the input's rows in the same order with the same schema, marked exactly as
`filters.dedup.dedupe_table` marks them, with the same statistics.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pyarrow as pa

from filters.dedup.banding import BAND_ROW_BYTES, BAND_ROW_SCHEMA, band_passes, band_rows, pass_bytes_per_caption, \
    shard_count, shard_edges
from filters.dedup.clusters import run_members, sorted_runs
from filters.dedup.marking import DUPLICATE_SCHEMA, located_duplicates, mark_duplicates, with_location
from filters.dedup.plan import DedupPlan, caption_rows, eligible_mask
from filters.dedup.resolve import CANDIDATE_PAIRS_PER_CALL, CLUSTER_ROW_SCHEMA, PAIRS_PER_CHUNK, VERIFY_ROW_SCHEMA, \
    resolve_clusters, verify_rows, verify_shard_of
from filters.dedup.stars import LARGE, MAX_ROUNDS, SMALL, component_labels, contract, distinct_pairs, lookup_labels, \
    merge_summaries, no_edges, node_part, relink, split_by_node, split_by_part, split_table, summaries
from filters.dedup.stats import merge_statistics, partial_statistics
from filters.dedup.verify import NODE_TEXT_SCHEMA, node_pairs_at_least, node_text_table, node_texts
from schemas.dedup_config import DedupConfig

BATCH_ROWS = 4096  # captions signed at once: bounds the working set of a band task
# Band rows shuffled per pass, in bytes per caption: the LSH bands are split into passes so the
# banding shuffle never holds more than this per caption (twice it, input and output, at its peak).
BAND_BYTES_PER_PASS = 128
MAX_GROUPS = 256  # tasks per step over the input blocks (groups of consecutive blocks), at most
ROWS_PER_GROUP = 1 << 18  # rows per group, about, when there are enough of them
MAX_PARTS = 256  # node partitions and vshards: objects per shuffle <= MAX_GROUPS × MAX_PARTS
ROWS_PER_PART = 1 << 20  # considered rows per node partition, about (16 B each in the join)
VERIFY_ROWS_PER_SHARD = 1 << 15  # candidate rows per resolve call, about
LOCATED_NODE_SCHEMA = pa.schema([("node", pa.uint64()), ("block", pa.int32()), ("position", pa.int32())])
CANDIDATE_SCHEMA = pa.schema([("block", pa.int32()), ("position", pa.int32()), ("component", pa.uint64())])


def _gather(ds, schema: pa.Schema) -> pa.Table:
    """Execute `ds` and bring its (small) result to the driver as one table."""
    import ray

    tables = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
    return pa.concat_tables(tables).cast(schema) if tables else schema.empty_table()


# ---- tasks: each returns a list of objects, one per destination (see `_submit`) ----

def _blocks(refs: list):
    """The tables of a group's block refs, fetched one at a time."""
    import ray

    for ref in refs:
        yield ray.get(ref)


def _concat(tables, schema: pa.Schema) -> pa.Table:
    tables = [t for t in tables if t.num_rows]
    return pa.concat_tables(tables).cast(schema) if tables else schema.empty_table()


def _count_group(refs: list, cfg: DedupConfig) -> list:
    counts: Counter = Counter()
    for table in _blocks(refs):
        counts.update(table.column("source").filter(pa.array(eligible_mask(table, cfg))).to_pylist())
    return [dict(counts)]


def _band_group(refs: list, block_ids: list[int], plan: DedupPlan, bands: range, n_shards: int, n_reducers: int,
                n_parts: int, with_nodes: bool) -> list:
    """Band rows of a group cut by reducer; with_nodes: then (node, block, position) cut by node
    partition, and with near dedup (node, normalised caption) cut by node partition too."""
    band, located, texts = [], [], []
    for table, block in zip(_blocks(refs), block_ids):
        for lo in range(0, table.num_rows, BATCH_ROWS):
            rows = caption_rows(table.slice(lo, BATCH_ROWS), plan)
            band.append(band_rows(rows, plan, n_shards, bands))
            if with_nodes:
                located.append(pa.table([pa.array(rows.node), pa.array(np.full(rows.node.size, block, np.int32)),
                                         pa.array((rows.positions + lo).astype(np.int32))], schema=LOCATED_NODE_SCHEMA))
                if plan.cfg.near:
                    texts.append(node_text_table(rows.node, rows.normalised))
    rows = _concat(band, BAND_ROW_SCHEMA)
    out = split_table(rows, (rows.column("shard").to_numpy() & (n_reducers - 1)).astype(np.int64), n_reducers)
    if with_nodes:
        nodes = _concat(located, LOCATED_NODE_SCHEMA)
        out += split_table(nodes, node_part(nodes.column("node").to_numpy(), n_parts), n_parts)
        if plan.cfg.near:
            texts = _concat(texts, NODE_TEXT_SCHEMA)
            out += split_table(texts, node_part(texts.column("node").to_numpy(), n_parts), n_parts)
    return out


def _edges_reducer(n_parts: int, *band: pa.Table) -> list:
    """Candidate edges of whole shards → [its image links, contracted (an edge partition of the
    components), their large-star summaries × parts, near pairs × parts (by left node, to be
    verified), self-edge nodes × parts, counts]."""
    edges = shard_edges(_concat(band, BAND_ROW_SCHEMA))
    left, right = edges.column("left").to_numpy(), edges.column("right").to_numpy()
    near = edges.column("near").to_numpy(zero_copy_only=False)
    loop = left == right
    alone = np.unique(left[loop])
    links = contract(left[~loop & ~near], right[~loop & ~near])  # near pairs join once verified
    near_pairs = distinct_pairs(np.stack((left[near], right[near])))
    counts = {"edges": int(edges.num_rows), "links": int(links.shape[1]),
              "nodes": int(np.unique(np.concatenate((left, right))).size)}
    return ([links] + summaries(links, LARGE, n_parts) + split_by_node(near_pairs, n_parts)
            + split_by_node(alone, n_parts) + [counts])


def _merge_step(step: str, *told: np.ndarray) -> list:
    """One node partition of a star step → [an answer per edge partition, unstable nodes,
    (node, m(node))]."""
    answers, unstable, labelled = merge_summaries(told, step)
    return answers + [unstable, labelled]


def _relink_step(step: str, next_step: str, n_parts: int, edges: np.ndarray, *answers: np.ndarray) -> list:
    """One edge partition: its edges after `step` and their summaries for `next_step`."""
    edges = relink(edges, answers, step)
    return [edges] + summaries(edges, next_step, n_parts)


def _attach_left(n_parts: int, n_texts: int, *args) -> list:
    """One node partition p, the near pairs whose left node is in p: [the pairs × partition of their
    right node, the texts of their left nodes × that partition, distinct pairs]."""
    nodes, texts = node_texts(args[:n_texts])
    pairs = distinct_pairs(np.concatenate(args[n_texts:], axis=1) if args[n_texts:] else no_edges())
    dest = node_part(pairs[1], n_parts)
    # each (left node, destination) once: the left node's texts go there once, whatever its degree
    sent = distinct_pairs(np.stack((pairs[0], dest.astype(np.uint64))))
    owner, at = run_members(*sorted_runs(nodes, sent[0]))
    table = pa.table([pa.array(nodes[at], pa.uint64()), pa.array([texts[i] for i in at.tolist()], pa.string())],
                     schema=NODE_TEXT_SCHEMA)
    return (split_by_part(dest, n_parts, pairs) + split_table(table, sent[1][owner].astype(np.int64), n_parts)
            + [int(pairs.shape[1])])


def _verify_right(plan: DedupPlan, n_parts: int, n_texts: int, n_from: int, *args) -> list:
    """One node partition q, the near pairs whose right node is in q, with their left nodes' texts:
    the pairs that can be near duplicates (`node_pairs_at_least`: the exact Jaccard of their texts,
    whatever their scope, which `resolve_clusters` checks again) → [them, contracted (an edge
    partition), their large-star summaries × parts, them × partition of their left node, counts]."""
    own, pair_parts, left_texts = args[:n_texts], args[n_texts:n_texts + n_from], args[n_texts + n_from:]
    pairs = np.concatenate(pair_parts, axis=1) if pair_parts else no_edges()  # distinct: each left node's p sent them
    nodes, texts = node_texts(list(own) + list(left_texts))
    ok = node_pairs_at_least(pairs, nodes, texts, plan.cfg.ngram, plan.cfg.threshold, chunk=PAIRS_PER_CHUNK,
                             per_call=CANDIDATE_PAIRS_PER_CALL)
    verified = pairs[:, ok]
    links = contract(verified[0], verified[1])
    return ([links] + summaries(links, LARGE, n_parts) + split_by_node(verified, n_parts)
            + [{"verified": int(verified.shape[1]), "links": int(links.shape[1])}])


def _join(n_labelled: int, n_alone: int, n_near: int, group_size: int, n_groups: int, n_vshards: int, *args
          ) -> list:
    """One node partition: labels, then [candidate rows × groups, near pairs with their component ×
    vshards, counts]."""
    labelled, alone = args[:n_labelled], args[n_labelled:n_labelled + n_alone]
    near, located = args[n_labelled + n_alone:n_labelled + n_alone + n_near], args[n_labelled + n_alone + n_near:]
    nodes, labels = component_labels(labelled, alone)
    rows = _concat(located, LOCATED_NODE_SCHEMA)
    found, component = lookup_labels(nodes, labels, rows.column("node").to_numpy())
    hit = np.flatnonzero(found)
    block = rows.column("block").to_numpy()[hit]
    candidates = pa.table([pa.array(block), pa.array(rows.column("position").to_numpy()[hit]),
                           pa.array(component[hit])], schema=CANDIDATE_SCHEMA)
    pairs = distinct_pairs(np.concatenate(near, axis=1) if near else no_edges())
    paired, pair_component = lookup_labels(nodes, labels, pairs[0])
    if not paired.all():
        raise RuntimeError("a near pair's node has no component label")  # pragma: no cover - edges carry both
    with_component = np.concatenate((pairs, pair_component[None, :]), axis=0)
    counts = {"candidate_nodes": int(nodes.size)}
    return (split_table(candidates, (block // group_size).astype(np.int64), n_groups)
            + split_by_part(verify_shard_of(pair_component, n_vshards).astype(np.int64), n_vshards, with_component)
            + [counts])


def _verify_group(refs: list, block_ids: list[int], plan: DedupPlan, n_vshards: int, *candidates: pa.Table) -> list:
    """The candidate rows of a group with their captions, cut by vshard."""
    cand = _concat(candidates, CANDIDATE_SCHEMA).sort_by([("block", "ascending"), ("position", "ascending")])
    block_of = cand.column("block").to_numpy()
    out = []
    for table_ref, block in zip(refs, block_ids):
        lo, hi = np.searchsorted(block_of, [block, block + 1])
        if lo == hi:
            continue
        positions = cand.column("position").to_numpy()[lo:hi].astype(np.int64)
        table = next(_blocks([table_ref]))
        rows = caption_rows(table, plan, positions)
        vrows = verify_rows(rows, np.ones(positions.size, bool), cand.column("component").to_numpy()[lo:hi], n_vshards)
        out.append(with_location(vrows, block, positions))
    vrows = _concat(out, _VERIFY_LOCATED_SCHEMA)
    return split_table(vrows, vrows.column("vshard").to_numpy().astype(np.int64), n_vshards)


_VERIFY_LOCATED_SCHEMA = with_location(VERIFY_ROW_SCHEMA.empty_table(), 0, np.zeros(0)).schema


def _resolve(plan: DedupPlan, rows_per_call: int, n_rows: int, group_size: int, n_groups: int, *args) -> list:
    """One vshard: whole components → [duplicates × groups, partial statistics, duplicates per group,
    rows of its largest component].
    `resolve_clusters` sees about `rows_per_call` rows at a time, whole components each."""
    vrows = _concat(args[:n_rows], _VERIFY_LOCATED_SCHEMA)
    pairs = np.concatenate(args[n_rows:], axis=1) if args[n_rows:] else np.zeros((3, 0), np.uint64)
    component = vrows.column("component").to_numpy()
    labels, row_label, size = np.unique(component, return_inverse=True, return_counts=True)
    chunk = (np.cumsum(size) - size) // rows_per_call  # chunk of each component
    n_chunks = int(chunk[-1]) + 1 if chunk.size else 0
    row_parts = split_table(vrows, chunk[row_label], n_chunks) if n_chunks > 1 else [vrows]
    pair_parts = split_by_part(chunk[np.searchsorted(labels, pairs[2])], n_chunks, pairs) if n_chunks > 1 else [pairs]
    clusters = _concat([resolve_clusters(r, p[0], p[1], plan) for r, p in zip(row_parts, pair_parts) if r.num_rows],
                       CLUSTER_ROW_SCHEMA)
    dups = located_duplicates(clusters, vrows)
    group = (dups.column("block").to_numpy() // group_size).astype(np.int64)
    return split_table(dups, group, n_groups) + [partial_statistics(clusters),
                                                 np.bincount(group, minlength=n_groups).tolist(),
                                                 int(size.max()) if size.size else 0]


def _mark_block(table: pa.Table, block: int, *duplicates: pa.Table) -> list:
    """One block with its duplicates marked; `duplicates` are its group's."""
    dups = _concat(duplicates, DUPLICATE_SCHEMA).sort_by([("block", "ascending"), ("position", "ascending")])
    lo, hi = np.searchsorted(dups.column("block").to_numpy(), [block, block + 1])
    return [mark_duplicates(table, dups.slice(lo, hi - lo))]


def _inline_limit() -> int:
    """Ray returns a task's result inside the reply to its caller, into the caller's memory, when
    it is smaller than this (`max_direct_call_object_size`, 100 KiB unless the cluster says
    otherwise)."""
    import os

    return int(os.environ.get("RAY_max_direct_call_object_size", 100 * 1024))  # noqa: SIM112 - Ray's name


def _run(fn, nest: bool, *args):
    """Runs in a worker: `fn`'s list of results as the task's return objects. With `nest`, a table
    or array small enough to be returned inside the reply, into the driver's memory, is put into
    the object store instead and its ref returned (the consumer's `_run` fetches it), so the driver
    holds refs and counts only, however many small parts a shuffle makes."""
    import ray

    nested = [i for i, a in enumerate(args) if isinstance(a, ray.ObjectRef)]
    if nested:
        args = list(args)
        for i, value in zip(nested, ray.get([args[i] for i in nested])):
            args[i] = value
    limit = _inline_limit()
    out = [ray.put(o) if nest and isinstance(o, (pa.Table, np.ndarray)) and o.nbytes < limit else o
           for o in fn(*args)]
    return out[0] if len(out) == 1 else tuple(out)


_REMOTE_RUN = []


def _submit(fn, n_returns: int, *args, nest: bool = True) -> list:
    """`fn(*args)` as a Ray task returning `n_returns` objects; their refs."""
    import ray

    if not _REMOTE_RUN:
        _REMOTE_RUN.append(ray.remote(_run))
    refs = _REMOTE_RUN[0].options(num_returns=n_returns).remote(fn, nest, *args)
    return [refs] if n_returns == 1 else list(refs)


def _power_of_two(n: int, cap: int) -> int:
    return min(cap, 1 << max(0, int(n) - 1).bit_length())


def _block_groups(n_blocks: int, n_groups: int) -> tuple[list[list[int]], int]:
    """About `n_groups` runs of consecutive blocks of (at most) the same size; the size."""
    size = max(1, -(-n_blocks // max(1, n_groups)))
    return [list(range(lo, min(n_blocks, lo + size))) for lo in range(0, n_blocks, size)], size


def dedupe(ds, cfg: DedupConfig, *, seed: int, parts: int | None = None, vshards: int | None = None):
    """Mark exact and near duplicates in a WORK_SCHEMA dataset.

    Returns (dataset, statistics): the same rows in the same order with the same schema, where each
    considered duplicate has status "duplicate", reason "dedup.exact" / "dedup.near" /
    "dedup.image" and `dup_of` = its representative's sample_id. Rows that are not considered
    (status not "ok", copy > 0, task not in `cfg.tasks`) pass through unchanged. `parts` (node
    partitions) and `vshards` (component partitions), powers of two, default to the cluster's CPUs
    and the data's size; they change speed and memory, never the result.
    """
    import ray

    plan = DedupPlan.build(cfg, seed)
    if not plan.active:
        return ds, {"enabled": False}
    for name, value in (("parts", parts), ("vshards", vshards)):
        if value is not None and not (1 <= value <= MAX_PARTS and value & (value - 1) == 0):
            raise ValueError(f"{name} must be a power of two in [1, {MAX_PARTS}], got {value}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    base = ds.materialize()
    blocks = base.to_arrow_refs()
    cpus = int(ray.cluster_resources().get("CPU", 1))
    # a task per group of blocks: enough to keep every CPU busy, few enough that per-task costs and
    # the objects per shuffle (groups × partitions) stay small
    groups, group_size = _block_groups(len(blocks), min(MAX_GROUPS, max(2 * cpus, -(-base.count() // ROWS_PER_GROUP))))
    group_refs = [[blocks[b] for b in g] for g in groups]
    plan_ref = ray.put(plan)
    timings["materialize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    considered: Counter = Counter()
    for counts in ray.get([_submit(_count_group, 1, refs, cfg)[0] for refs in group_refs]):
        considered.update(counts)
    n_considered = sum(considered.values())
    n_parts = parts or _power_of_two(max(cpus, -(-n_considered // ROWS_PER_PART)), MAX_PARTS)
    timings["count"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    passes = band_passes(plan, BAND_BYTES_PER_PASS)
    edges, told, near, alone, located, texts = [], [], [], [], [], []
    n_edges = n_nodes_upper = n_links = 0
    for k, bands in enumerate(passes):
        n_shards = shard_count(n_considered * max(1, len(bands)))
        n_reducers = min(n_shards, n_parts)
        with_nodes = k == 0
        n_node_outputs = (2 if cfg.near else 1) * n_parts if with_nodes else 0
        maps = [_submit(_band_group, n_reducers + n_node_outputs, refs, g, plan_ref, bands,
                        n_shards, n_reducers, n_parts, with_nodes) for refs, g in zip(group_refs, groups)]
        if with_nodes:
            located = [m[n_reducers:n_reducers + n_parts] for m in maps]
            texts = [m[n_reducers + n_parts:] for m in maps]
        reducers = [_submit(_edges_reducer, 3 * n_parts + 2, n_parts, *[m[r] for m in maps])
                    for r in range(n_reducers)]
        del maps
        for red, counts in zip(reducers, ray.get([red[-1] for red in reducers])):  # one pass at a time
            edges.append(red[0])
            told.append(red[1:1 + n_parts])
            near.append(red[1 + n_parts:1 + 2 * n_parts])
            alone.append(red[1 + 2 * n_parts:1 + 3 * n_parts])
            n_edges += counts["edges"]
            n_nodes_upper += counts["nodes"]
            n_links += counts["links"]
        del reducers
    timings["banding"] = time.perf_counter() - t0

    # near pairs are verified before they join the components, so a corpus of look-alike captions
    # does not chain into one giant candidate component: the left node's texts travel to the
    # pairs' right node's partition (once per left node and partition), where the pairs are checked
    t0 = time.perf_counter()
    n_near_pairs = n_verified = 0
    if cfg.near:
        attached = [_submit(_attach_left, 2 * n_parts + 1, n_parts, len(texts), *[t[p] for t in texts],
                            *[n[p] for n in near]) for p in range(n_parts)]
        checked = [_submit(_verify_right, 2 + 2 * n_parts, plan_ref, n_parts, len(texts), n_parts,
                           *[t[q] for t in texts], *[a[q] for a in attached], *[a[n_parts + q] for a in attached])
                   for q in range(n_parts)]
        n_near_pairs = sum(ray.get([a[-1] for a in attached]))
        del attached, texts
        near = []
        for c, counts in zip(checked, ray.get([c[-1] for c in checked])):
            edges.append(c[0])
            told.append(c[1:1 + n_parts])
            near.append(c[1 + n_parts:1 + 2 * n_parts])
            n_verified += counts["verified"]
            n_links += counts["links"]
        del checked
    timings["verify_near_pairs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_edge_parts = len(edges)
    labelled: list = [[] for _ in range(n_parts)]  # (node, m(node)) per node partition, last large-star
    rounds = 0
    while n_links:
        rounds += 1
        if rounds > MAX_ROUNDS:  # pragma: no cover - the rounds provably converge
            raise RuntimeError(f"large/small-star did not converge in {MAX_ROUNDS} rounds")
        counts = []
        for step, next_step in ((LARGE, SMALL), (SMALL, LARGE)):
            merged = [_submit(_merge_step, n_edge_parts + 2, step, *[t[p] for t in told]) for p in range(n_parts)]
            counts += [m[n_edge_parts] for m in merged]
            if step == LARGE:
                labelled = [[m[n_edge_parts + 1]] for m in merged]
            relinked = [_submit(_relink_step, 1 + n_parts, step, next_step, n_parts, edges[e],
                                *[m[e] for m in merged]) for e in range(n_edge_parts)]
            edges, told = [r[0] for r in relinked], [r[1:] for r in relinked]
            del merged, relinked
        if sum(ray.get(counts)) == 0:
            break
    del edges, told
    timings["components"] = time.perf_counter() - t0
    timings["star_rounds"] = rounds

    t0 = time.perf_counter()
    n_groups = len(groups)
    n_vshards = vshards or _power_of_two(max(n_parts, -(-n_nodes_upper // VERIFY_ROWS_PER_SHARD)), MAX_PARTS)
    joins = [_submit(_join, n_groups + n_vshards + 1, len(labelled[p]), len(alone), len(near), group_size, n_groups,
                     n_vshards, *labelled[p], *[a[p] for a in alone], *[n[p] for n in near],
                     *[lo[p] for lo in located]) for p in range(n_parts)]
    del labelled, alone, near, located
    verified = [_submit(_verify_group, n_vshards, refs, g, plan_ref, n_vshards, *[j[gi] for j in joins])
                for gi, (refs, g) in enumerate(zip(group_refs, groups))]
    resolved = [_submit(_resolve, n_groups + 3, plan_ref, VERIFY_ROWS_PER_SHARD, n_groups, group_size, n_groups,
                        *[v[q] for v in verified], *[j[n_groups + q] for j in joins]) for q in range(n_vshards)]
    join_counts = ray.get([j[-1] for j in joins])
    del joins, verified
    partials = ray.get([r[n_groups] for r in resolved])
    dup_counts = ray.get([r[n_groups + 1] for r in resolved])  # duplicates per vshard and group
    largest_component = max(ray.get([r[n_groups + 2] for r in resolved]), default=0)
    timings["verify_and_cluster"] = time.perf_counter() - t0

    stats = merge_statistics(partials, dict(considered), plan)
    stats["banding"] = {
        "passes": len(passes),
        "band_row_bytes": BAND_ROW_BYTES,
        "buckets_per_caption": plan.buckets_per_caption,
        "bytes_per_caption_per_pass": max(pass_bytes_per_caption(plan, b) for b in passes),
        "candidate_edges": n_edges,
        "candidate_nodes": sum(c["candidate_nodes"] for c in join_counts),
        "near_pairs": n_near_pairs,
        "near_pairs_verified": n_verified,
        "largest_candidate_component": largest_component,
    }
    if not stats["duplicates"]:
        stats["timings_s"] = _rounded(timings, n_parts, n_vshards, n_groups)
        return base, stats
    t0 = time.perf_counter()
    out_refs = []
    for gi, (refs, g) in enumerate(zip(group_refs, groups)):
        dups = [r[gi] for r, c in zip(resolved, dup_counts) if c[gi]]
        if dups:
            # marked blocks come back as tables, like the input's: Ray Data takes refs to tables
            out_refs += [_submit(_mark_block, 1, ref, b, *dups, nest=False)[0] for ref, b in zip(refs, g)]
        else:
            out_refs += refs
    del resolved
    out = ray.data.from_arrow_refs(out_refs)
    timings["mark"] = time.perf_counter() - t0
    stats["timings_s"] = _rounded(timings, n_parts, n_vshards, n_groups)
    return out, stats


def _rounded(timings: dict, n_parts: int, n_vshards: int, n_groups: int) -> dict:
    out = {k: round(v, 3) for k, v in timings.items()}
    out.update(node_partitions=n_parts, vshards=n_vshards, block_groups=n_groups)
    return out
