"""Parquet parts that vlpack wrote itself (stage-cache parts, the plan's assignment parts) as a
Ray dataset: one Ray task reads each part whole, and each part becomes one block, in the order
listed.

`ray.data.read_parquet` costs seconds before it reads a byte (it fetches and samples the files'
metadata to size its read tasks, on workers it may have to start): on a 300-sample job it took
4–7 s of a 10–15 s run, against 0.03–0.12 s for a task per part (the write stage's assignment
parts, timed both ways in one process on a shared machine under load 14–17). The parts here were written one block each, so reading each one whole keeps the
blocks as they were written and the rows in their order.
"""

from __future__ import annotations

import pyarrow as pa


def _read_part(path: str) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path)


def read_parts(paths: list[str]):
    """The parts at `paths`, one block each, rows in the order listed."""
    import ray

    if not paths:
        raise ValueError("read_parts needs at least one part")
    reader = ray.remote(_read_part)
    return ray.data.from_arrow_refs([reader.remote(str(p)) for p in paths])
