"""`jobs.spool`: every row comes back from exactly its own partition, in its order, whatever the
columns (nested ones give a Parquet file more leaf columns than the table has fields)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.spool import PARTITION, read_partition, spool_partitioned

MEDIA = pa.list_(pa.struct([("uri", pa.string()), ("width", pa.int32())]))
SCHEMA = pa.schema([("id", pa.int64()), ("media", MEDIA), ("blob", pa.binary())])


def _table(parts: list[int], offset: int = 0) -> pa.Table:
    n = len(parts)
    return pa.table({
        "id": pa.array(range(offset, offset + n), pa.int64()),
        "media": pa.array([[{"uri": f"u{i}", "width": i}] * (i % 3) for i in range(offset, offset + n)], MEDIA),
        "blob": pa.array([bytes([i % 256]) * (i % 7) for i in range(offset, offset + n)], pa.binary()),
        PARTITION: pa.array(parts, pa.int32()),
    })


@settings(max_examples=60, deadline=None)
@given(files=st.lists(st.lists(st.integers(0, 6), max_size=40), min_size=1, max_size=4))
def test_each_partition_reads_back_its_rows_in_order(tmp_path_factory, files):
    d = tmp_path_factory.mktemp("spool")
    paths, tables, offset = [], [], 0
    for i, parts in enumerate(files):
        t = _table(parts, offset)
        offset += len(parts)
        paths.append(spool_partitioned(d / f"part-{i}.parquet", t))
        tables.append(t)
    every = pa.concat_tables(tables)
    seen = []
    for p in range(7):
        got = read_partition(paths, p, SCHEMA)
        assert got.schema == SCHEMA
        want = every.filter(pa.compute.equal(every.column(PARTITION), p)).drop_columns([PARTITION])
        assert got.equals(want)  # the rows of p only, in file order and, within a file, written order
        seen += got.column("id").to_pylist()
    assert sorted(seen) == list(range(offset))


def test_other_partitions_row_groups_are_not_read(tmp_path):
    path = spool_partitioned(tmp_path / "p.parquet", _table([2, 0, 2, 1, 0, 2]))
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3  # one per partition present
    assert [meta.row_group(g).num_rows for g in range(3)] == [2, 1, 3]


def test_empty_spool_file_reads_as_empty(tmp_path):
    path = spool_partitioned(tmp_path / "e.parquet", _table([]))
    assert read_partition([path], 0, SCHEMA).num_rows == 0
    assert read_partition([], 0, SCHEMA).schema == SCHEMA
