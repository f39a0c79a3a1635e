"""Ray Data groupbys whose cost on the driver does not grow with the rows.

Ray Data's sort-based shuffle (the strategy these groupbys use: on one node the pull-based sort
shuffle beats the hash shuffle's actor pool severalfold) cuts every input block into one slice per
output partition, and it makes as many output partitions as its input has blocks:
`num_partitions` is read only by the hash shuffle. An input of B blocks therefore makes B² slices,
each an object the driver owns, and a slice under Ray's inline limit (100 KiB) is kept *inside the
driver's memory*. As a job grows its blocks grow in number, so the slices grow as the square of
the rows and shrink in size until the rows themselves pass through the driver: at 1M samples the
planning and write groupbys held ~10,000 slices, +100–150 MB of driver heap at their peaks.

`grouped_by` first cuts the input into exactly `n_partitions` contiguous blocks (a split, no
shuffle; row order kept), so a groupby makes n_partitions² slices whatever the row count, and
callers size n_partitions by rows per partition (so the slices stay large) under a fixed cap
(MAX_PARTITIONS): at most MAX_PARTITIONS² object refs on the driver, and no rows.
"""

from __future__ import annotations

DEFAULT_SHUFFLE = "sort_shuffle_pull_based"
MAX_PARTITIONS = 256  # partitions of one groupby, at most: slices <= MAX_PARTITIONS² per shuffle


def with_shuffle(ds, shuffle: str):
    """The same blocks as a new dataset with its own copy of the data context, whose shuffle
    strategy is `shuffle`; the caller's context is left alone."""
    import ray
    from ray.data.context import ShuffleStrategy

    own = ray.data.from_arrow_refs(ds.to_arrow_refs())
    own.context.shuffle_strategy = ShuffleStrategy(shuffle)
    return own


def partitions_for(n_rows: int, rows_per_partition: int, *, at_least: int = 1) -> int:
    """Partitions of about `rows_per_partition` rows (at least `at_least`), at most MAX_PARTITIONS."""
    return max(1, min(MAX_PARTITIONS, max(at_least, -(-n_rows // max(1, rows_per_partition)))))


def grouped_by(ds, key: str, n_partitions: int):
    """`ds.groupby(key)` over exactly `n_partitions` (<= MAX_PARTITIONS) input blocks and partitions.

    Every group lands whole in one partition, as with any groupby; which groups share a partition
    and in what order a group's rows arrive depend on n_partitions, so the function applied to each
    group must not depend on row order (sort inside it)."""
    if not 1 <= n_partitions <= MAX_PARTITIONS:
        raise ValueError(f"n_partitions = {n_partitions}; allowed: 1 <= n <= {MAX_PARTITIONS}")
    blocks = ds.repartition(n_partitions).materialize()
    return with_shuffle(blocks, DEFAULT_SHUFFLE).groupby(key, num_partitions=n_partitions)
