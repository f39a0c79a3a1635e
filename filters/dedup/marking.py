"""Mark duplicates in WORK_SCHEMA rows, by position: the verify rows carry the block and position
of the row they came from, so a duplicate goes back to its row without any index of sample ids."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STATUS_DUPLICATE = "duplicate"
DUPLICATE_SCHEMA = pa.schema([("block", pa.int32()), ("position", pa.int32()), ("dup_of", pa.string()),
                              ("reason", pa.string())])


def with_location(vrows: pa.Table, block: int, positions: np.ndarray) -> pa.Table:
    """Verify rows with the block and row position (aligned with `vrows`) they came from."""
    return (vrows.append_column("block", pa.array(np.full(vrows.num_rows, block, dtype=np.int32)))
            .append_column("position", pa.array(np.asarray(positions, dtype=np.int32))))


def located_duplicates(clusters: pa.Table, vrows: pa.Table) -> pa.Table:
    """The duplicates among `clusters` (CLUSTER_ROW_SCHEMA rows resolved from `vrows`, verify rows
    `with_location`) with the block and position of their row, sorted by (block, position)."""
    dups = clusters.filter(pc.is_valid(clusters.column("dup_of")))
    at = pc.index_in(dups.column("sample_id"), value_set=vrows.column("sample_id"))
    if at.null_count:
        raise ValueError("a duplicate's sample_id is not among the rows it was resolved from")
    out = pa.table([vrows.column("block").take(at), vrows.column("position").take(at), dups.column("dup_of"),
                    dups.column("reason")], schema=DUPLICATE_SCHEMA)
    return out.sort_by([("block", "ascending"), ("position", "ascending")])


def mark_duplicates(table: pa.Table, duplicates: pa.Table) -> pa.Table:
    """Set status `duplicate`, reason and dup_of on the rows at `duplicates.position` (one block's
    duplicates, DUPLICATE_SCHEMA)."""
    if duplicates.num_rows == 0 or table.num_rows == 0:
        return table
    rows = duplicates.column("position").to_numpy()
    if rows.min() < 0 or rows.max() >= table.num_rows:
        raise ValueError(f"duplicate positions must be in [0, {table.num_rows}), got [{rows.min()}, {rows.max()}]")
    is_dup = np.zeros(table.num_rows, dtype=bool)
    is_dup[rows] = True
    reason = np.full(table.num_rows, None, dtype=object)
    dup_of = np.full(table.num_rows, None, dtype=object)
    reason[rows] = duplicates.column("reason").to_pylist()
    dup_of[rows] = duplicates.column("dup_of").to_pylist()
    mask = pa.array(is_dup)
    updates = {
        "status": pc.if_else(mask, STATUS_DUPLICATE, table.column("status")),
        "reason": pc.if_else(mask, pa.array(reason, pa.string()), table.column("reason")),
        "dup_of": pc.if_else(mask, pa.array(dup_of, pa.string()), table.column("dup_of")),
    }
    for name, values in updates.items():
        i = table.schema.get_field_index(name)
        field = table.schema.field(i)
        table = table.set_column(i, field, values.cast(field.type))
    return table
