"""Mark duplicates in WORK_SCHEMA batches from the (small) table of duplicates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.dedup.caption_key import string_keys
from filters.dedup.plan import eligible_mask
from schemas.dedup_config import DedupConfig

STATUS_DUPLICATE = "duplicate"


@dataclass(frozen=True)
class DuplicateIndex:
    """Duplicates sorted by a 64-bit key of their sample_id: sample_id, dup_of and reason only."""

    key_seed: int
    keys: np.ndarray  # sorted uint64, unique
    sample_id: list[str]
    dup_of: list[str]
    reason: list[str]

    @classmethod
    def from_clusters(cls, clusters: pa.Table) -> "DuplicateIndex":
        dups = clusters.filter(pc.is_valid(clusters.column("dup_of")))
        ids = dups.column("sample_id").to_pylist()
        if len(set(ids)) != len(ids):
            raise ValueError("a sample_id is a duplicate twice: sample ids of considered rows must be unique")
        for seed in range(64):  # a key collision among duplicates is ~n²/2⁶⁵; re-key if it happens
            keys = string_keys(ids, seed=seed)
            order = np.argsort(keys, kind="stable")
            if np.unique(keys).size == keys.size:
                break
        else:  # pragma: no cover - would need 64 collisions in a row
            raise RuntimeError("could not find collision-free keys for the duplicate index")
        pick = order.tolist()
        return cls(key_seed=seed, keys=keys[order], sample_id=[ids[i] for i in pick],
                   dup_of=[dups.column("dup_of")[i].as_py() for i in pick],
                   reason=[dups.column("reason")[i].as_py() for i in pick])

    def __len__(self) -> int:
        return self.keys.size

    def mark(self, table: pa.Table, cfg: DedupConfig) -> pa.Table:
        """Set status `duplicate`, reason and dup_of on the considered rows that are duplicates."""
        if not len(self) or table.num_rows == 0:
            return table
        positions = np.flatnonzero(eligible_mask(table, cfg))
        ids = table.column("sample_id").take(pa.array(positions, pa.int64())).to_pylist()
        keys = string_keys(ids, seed=self.key_seed)
        at = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        hit = [k == self.keys[j] and s == self.sample_id[j] for k, j, s in zip(keys, at.tolist(), ids)]
        rows = positions[np.array(hit, dtype=bool)] if positions.size else positions
        if rows.size == 0:
            return table
        found = at[np.array(hit, dtype=bool)].tolist()
        is_dup = np.zeros(table.num_rows, dtype=bool)
        is_dup[rows] = True
        reason = np.full(table.num_rows, None, dtype=object)
        dup_of = np.full(table.num_rows, None, dtype=object)
        reason[rows] = [self.reason[j] for j in found]
        dup_of[rows] = [self.dup_of[j] for j in found]
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
