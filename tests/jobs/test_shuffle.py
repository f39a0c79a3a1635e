"""`jobs.shuffle.grouped_by`: every group whole in one call, over exactly the partitions asked for,
whatever the number of input blocks (the sort shuffle would otherwise make one partition per block,
and blocks² slices on the driver)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from jobs.shuffle import MAX_PARTITIONS, grouped_by, partitions_for


@pytest.mark.parametrize("n_blocks,n_partitions", [(1, 1), (37, 3), (37, 1), (5, 8)])
def test_groups_arrive_whole_over_the_partitions_asked_for(ray_local, n_blocks, n_partitions):
    ray = ray_local

    def summary(group: pa.Table) -> pa.Table:  # nested: pickled by value for the workers
        values = np.sort(group.column("v").to_numpy())
        return pa.table({"key": [group.column("key")[0].as_py()], "n": [group.num_rows],
                         "first": [int(values[0])], "total": [int(values.sum())]})

    rng = np.random.default_rng(n_blocks * 100 + n_partitions)
    keys = rng.integers(0, 23, size=4_000)
    values = np.arange(4_000)
    tables = [pa.table({"key": part_k, "v": part_v})
              for part_k, part_v in zip(np.array_split(keys, n_blocks), np.array_split(values, n_blocks))]
    ds = ray.data.from_arrow(tables)
    assert ds.num_blocks() == n_blocks
    grouped = grouped_by(ds, "key", n_partitions)
    out = grouped.map_groups(summary, batch_format="pyarrow").materialize()
    got = pa.concat_tables(ray.get(out.to_arrow_refs())).sort_by("key")
    want = {k: values[keys == k] for k in np.unique(keys)}
    assert got.column("key").to_pylist() == sorted(want)  # one call per group: no group split
    assert got.column("n").to_pylist() == [len(want[k]) for k in sorted(want)]
    assert got.column("total").to_pylist() == [int(want[k].sum()) for k in sorted(want)]
    assert got.column("first").to_pylist() == [int(want[k].min()) for k in sorted(want)]
    assert out.num_blocks() <= n_partitions  # the shuffle made the partitions asked for, not one per block


def test_partition_counts_follow_rows_under_the_cap():
    assert partitions_for(0, 100_000) == 1
    assert partitions_for(250_000, 100_000) == 3
    assert partitions_for(250_000, 100_000, at_least=8) == 8
    assert partitions_for(10**12, 100_000) == MAX_PARTITIONS


@pytest.mark.parametrize("n", [0, MAX_PARTITIONS + 1])
def test_a_partition_count_out_of_range_names_the_range(ray_local, n):
    ds = ray_local.data.from_arrow(pa.table({"key": [1, 2]}))
    with pytest.raises(ValueError, match=rf"allowed: 1 <= n <= {MAX_PARTITIONS}"):
        grouped_by(ds, "key", n)
