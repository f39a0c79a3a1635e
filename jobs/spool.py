"""A hash-partitioned spool of Parquet files on disk: a shuffle whose data never sits in Ray's
object store.

A Ray Data groupby keeps every copy of what it moves (its repartitioned input, the sort shuffle's
slices, the reduce outputs) as Arrow objects in the object store, and the store spills them to
disk uncompressed: at 10M samples the write stage's two groupbys spilled 42–47 GB, more than the
shards they were writing. Here a map task writes its rows once, compressed (zstd), into one file
sorted by partition, one row group per partition present; the task that owns a partition reads
only that partition's row groups of every file (Parquet statistics name each row group's
partition, so the others are skipped without being read). Nothing moves through the driver: it
holds file paths, O(map tasks + partitions).

Files are committed atomically (temp name, rename), so a retried task rewrites the same file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PARTITION = "_part"


def spool_partitioned(path: str | Path, table: pa.Table) -> str:
    """Write `table` (with an int32 PARTITION column) to `path`, sorted by partition (stable: rows
    keep their order within one), one row group per partition present. Returns the path."""
    from packer.shards import commit_file

    table = table.take(pc.sort_indices(table, sort_keys=[(PARTITION, "ascending")]))
    parts = table.column(PARTITION).to_numpy()
    starts = np.flatnonzero(np.r_[True, parts[1:] != parts[:-1]]) if len(parts) else np.array([], np.int64)
    ends = np.r_[starts[1:], len(parts)].astype(np.int64)
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, table.schema, compression="zstd", write_statistics=[PARTITION]) as writer:
        for a, b in zip(starts, ends):
            writer.write_table(table.slice(int(a), int(b - a)), row_group_size=int(b - a))
    commit_file(Path(path), sink.getvalue().to_pybytes())
    return str(path)


def read_partition(paths: list[str], partition: int, schema: pa.Schema) -> pa.Table:
    """The rows of `partition` in every spool file at `paths`, in file order, without PARTITION;
    row groups of other partitions are not read."""
    out = []
    for path in paths:
        f = pq.ParquetFile(path)
        leaves = [f.schema.column(i).path for i in range(len(f.schema))]  # a nested column has several
        col = leaves.index(PARTITION)
        groups = []
        for g in range(f.metadata.num_row_groups):
            stats = f.metadata.row_group(g).column(col).statistics
            if stats is not None and stats.has_min_max and stats.min == partition:
                groups.append(g)
        if groups:
            out.append(f.read_row_groups(groups).drop_columns([PARTITION]))
    return pa.concat_tables([t.cast(schema) for t in out]) if out else schema.empty_table()
