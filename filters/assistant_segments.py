"""The assistant text segments of a `turns` column, read and rewritten as whole Arrow arrays.

`joined(rows)` gives, per row, exactly `schemas.sample.assistant_text(turns)` (the non-empty
assistant text segments joined with "\\n"), without a Python loop over rows. `with_texts` puts
rewritten segment texts back, keeping every offset, null and other field as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.sample import SEGMENT_TYPE, TURN_TYPE


@dataclass(frozen=True)
class AssistantSegments:
    turns: pa.ListArray  # compact (offsets start at 0, children exact)
    texts: pa.Array  # text of every segment of every turn
    seg_row: np.ndarray  # row of every segment
    is_assistant_text: np.ndarray  # segment is kind "text" with non-null text in an assistant turn

    @classmethod
    def from_column(cls, column: pa.ChunkedArray | pa.Array) -> AssistantSegments:
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        turns = pa.concat_arrays(chunks) if chunks else pa.array([], pa.list_(TURN_TYPE))
        turn_structs = turns.values
        seg_lists = turn_structs.field("segments")
        segs = seg_lists.values
        turn_row = np.repeat(np.arange(len(turns)), np.diff(turns.offsets.to_numpy()))
        seg_turn = np.repeat(np.arange(len(seg_lists)), np.diff(seg_lists.offsets.to_numpy()))
        texts = segs.field("text")
        assistant = pc.fill_null(pc.equal(turn_structs.field("role"), "assistant"), False).to_numpy(
            zero_copy_only=False
        )
        is_text = pc.fill_null(pc.equal(segs.field("kind"), "text"), False).to_numpy(zero_copy_only=False)
        valid = texts.is_valid().to_numpy(zero_copy_only=False)
        return cls(turns, texts, turn_row[seg_turn], assistant[seg_turn] & is_text & valid)

    def segment_index(self, rows: np.ndarray) -> np.ndarray:
        """Indices of the assistant text segments of `rows` (a boolean mask over table rows), in order."""
        return np.flatnonzero(self.is_assistant_text & rows[self.seg_row])

    def joined(self, seg_index: np.ndarray, seg_texts: pa.Array, n_rows: int) -> pa.Array:
        """Per table row: the non-empty `seg_texts` (aligned with `seg_index`) joined with "\\n"."""
        nonempty = pc.greater(pc.binary_length(seg_texts), 0).to_numpy(zero_copy_only=False)
        rows = self.seg_row[seg_index][nonempty]
        offsets = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows)))).astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets), seg_texts.filter(pa.array(nonempty)))
        return pc.binary_join(lists, "\n")

    def with_texts(self, seg_index: np.ndarray, seg_texts: pa.Array) -> pa.ListArray:
        """The turns column with segments `seg_index` given the texts `seg_texts`."""
        mask = np.zeros(len(self.texts), dtype=bool)
        mask[seg_index] = True
        texts = pc.replace_with_mask(self.texts, pa.array(mask), seg_texts.cast(self.texts.type))
        turns = self.turns
        structs = turns.values
        seg_lists = structs.field("segments")
        segs = seg_lists.values
        new_segs = pa.StructArray.from_arrays(
            [segs.field(f.name) if f.name != "text" else texts for f in SEGMENT_TYPE],
            fields=list(SEGMENT_TYPE),
            mask=_null_mask(segs),
        )
        new_lists = pa.ListArray.from_arrays(seg_lists.offsets, new_segs, mask=_null_mask(seg_lists))
        new_structs = pa.StructArray.from_arrays(
            [structs.field("role"), new_lists], fields=list(TURN_TYPE), mask=_null_mask(structs)
        )
        return pa.ListArray.from_arrays(turns.offsets, new_structs, mask=_null_mask(turns)).cast(turns.type)


def _null_mask(arr: pa.Array) -> pa.Array | None:
    return arr.is_null() if arr.null_count else None
