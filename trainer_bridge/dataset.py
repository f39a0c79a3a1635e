"""``PackedShardDataset``: ready-to-train tensors from a committed vlpack output directory.

Trust: only ``manifest.json`` (written last by the packer) says what exists. The index
``packs.parquet`` and every shard this rank reads are checked against the manifest's sha256 when
``verify=True``; a mismatch is an error naming the file. Shard paths must stay inside OUT.

Order: a rank's packs come in (step, micro) order, the packer's plan (or ``rank_plan.reassign_ranks``
for another dp_size). With ``num_workers`` DataLoader workers, worker w takes positions
start + w, start + w + W, ...; torch's in-order round-robin over workers then hands the trainer the
exact same sequence as ``num_workers=0``. Every worker indexes the tar headers of the shards it needs
and reads only its own packs' bytes.

Resume: the state is {epoch, position}: position = packs of this epoch already handed to the trainer.
``PackLoader`` (or iterating the dataset in the main process) advances it per pack, so
``load_state_dict`` resumes at any pack, not only at multiples of num_workers.

Per pack (one webdataset sample KEY.*) it yields a dict:
    input_ids [T] int64, labels [T] int64 (-100: no loss; aligned with input_ids, not shifted),
    position_ids [T] int64 restarting per sample, or [3, T] Qwen2-VL mRoPE with ``mrope=True``,
    cu_seqlens [S+1] int32 (trailing padding is its own segment), cu_seqlens_list (host list, for
    Ascend's actual_seq_qlen), max_seqlen, sample_index [T] int32 (-1 on padding),
    pixel_values [patches, 3*2*14*14] float32, image_grid_thw [n, 3] int64, vision_mask [T] bool
    (the pad tokens the merged patches replace, in order), media_kind, pack_id, step, micro, position.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from itertools import pairwise
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.manifest import MANIFEST_NAME, ImageLayout, Manifest, PackLayout, index_files, pack_key
from trainer_bridge.pixels import (
    MERGE_SIZE,
    PATCH_SIZE,
    TEMPORAL_PATCH_SIZE,
    decode_rgb,
    normalised_pixels,
    patchify,
)
from trainer_bridge.rank_plan import packed_plan, reassign_ranks

IGNORE_INDEX = -100
IMAGE_PAD_NAMES = ("<|image_pad|>", "image_pad")
VIDEO_PAD_NAMES = ("<|video_pad|>", "video_pad")

try:  # torch is a trainer dependency; keep `import trainer_bridge.dataset` light for tools without it
    from torch.utils.data import IterableDataset as _IterableBase
except ImportError:  # pragma: no cover - exercised only where torch is absent
    _IterableBase = object


class ShardFormatError(ValueError):
    """A shard, pack or index that does not match the output contract; the message names it."""


def read_manifest(out_dir: Path) -> Manifest:
    path = out_dir / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no manifest; the output is not committed (the packer writes manifest.json last)"
        )
    return Manifest.model_validate_json(path.read_bytes())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inside(out_dir: Path, rel: str) -> Path:
    """OUT/rel, refusing absolute paths and '..' (a manifest must not point outside OUT)."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ShardFormatError(f"manifest path {rel!r} must be relative and stay inside {out_dir}")
    return out_dir / pure


def step_permutation(n_steps: int, seed: int, epoch: int) -> np.ndarray:
    """The order of steps in an epoch with shuffle_steps: same on every rank, keyed by (seed, epoch)."""
    digest = hashlib.blake2b(f"vlpack.steps:{seed}:{epoch}".encode(), digest_size=8).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest, "little"))).permutation(n_steps)


def tar_members(path: Path) -> dict[str, tuple[int, int]]:
    """member name -> (data offset, size), regular files only, from the tar headers."""
    index: dict[str, tuple[int, int]] = {}
    try:
        with tarfile.open(path, mode="r:") as tar:
            for info in tar:
                if info.isreg():
                    index[info.name.removeprefix("./")] = (info.offset_data, info.size)
    except tarfile.TarError as exc:
        raise ShardFormatError(f"{path}: not a readable tar: {exc}") from exc
    return index


class PackedShardDataset(_IterableBase):
    """Packs of one data-parallel rank, as tensors; see the module docstring."""

    def __init__(
        self,
        out_dir,
        dp_rank: int,
        dp_size: int,
        *,
        epoch: int = 0,
        seed: int = 0,
        verify: bool = True,
        shuffle_steps: bool = False,
        mrope: bool = False,
    ):
        self.out_dir = Path(out_dir)
        if dp_size < 1:
            raise ValueError(f"dp_size: {dp_size} must be >= 1")
        if not 0 <= dp_rank < dp_size:
            raise ValueError(f"dp_rank: {dp_rank} must be in [0, {dp_size - 1}] for dp_size {dp_size}")
        if epoch < 0:
            raise ValueError(f"epoch: {epoch} must be >= 0")
        self.dp_rank, self.dp_size = dp_rank, dp_size
        self.seed, self.verify, self.shuffle_steps, self.mrope = seed, verify, shuffle_steps, mrope
        self.manifest = read_manifest(self.out_dir)
        m = self.manifest
        self.packed_packs_per_step = m.dp_size * m.micro_batch * m.grad_accum
        self._shards = {s.path: s for s in m.shards}
        packs = self._read_packs_index()
        self._shard_of = dict(
            zip(packs.column("pack_id").to_pylist(), packs.column("shard").to_pylist(), strict=True)
        )
        if dp_size == m.dp_size:
            plan = packed_plan(packs)
            self.packs_per_step = self.packed_packs_per_step
        else:
            plan = reassign_ranks(packs, dp_size, self.packed_packs_per_step)
            self.packs_per_step = dp_size * max(1, round(self.packed_packs_per_step / dp_size))
        self.packs_per_rank_step = self.packs_per_step // dp_size
        mine = np.asarray(plan.column("rank").to_numpy()) == dp_rank
        self._plan_ids = np.asarray(plan.column("pack_id").to_numpy())[mine]
        self._plan_steps = np.asarray(plan.column("step").to_numpy())[mine]
        self._plan_micro = np.asarray(plan.column("micro").to_numpy())[mine]
        self._check_shards()
        self.image_pad_id = self._special(IMAGE_PAD_NAMES)
        self.video_pad_id = self._special(VIDEO_PAD_NAMES)
        self.set_epoch(epoch)

    # ---------------------------------------------------------------- setup
    def _special(self, names) -> int | None:
        for name in names:
            if name in self.manifest.special_tokens:
                return int(self.manifest.special_tokens[name])
        return None

    def _read_packs_index(self):
        parts = index_files(self.manifest, "packs")
        if not parts:
            raise ShardFormatError(f"{self.out_dir}: the manifest lists no pack index")
        tables = []
        for rel, expected in parts:
            path = inside(self.out_dir, rel)
            if not path.is_file():
                raise ShardFormatError(f"{path}: the pack index part is missing (the manifest commits it)")
            if self.verify and sha256_file(path) != expected:
                raise ShardFormatError(f"{rel}: sha256 does not match the manifest")
            tables.append(pq.read_table(path))
        packs = pa.concat_tables(tables, promote_options="permissive")
        packs = packs.take(pa.array(np.argsort(packs.column("pack_id").to_numpy(), kind="stable")))
        missing = {"pack_id", "step", "rank", "micro", "shard", "real_tokens"} - set(packs.column_names)
        if missing:
            raise ShardFormatError(f"pack index: missing columns {sorted(missing)}")
        if packs.num_rows != self.manifest.n_packs:
            raise ShardFormatError(
                f"pack index: {packs.num_rows} packs, but the manifest lists n_packs={self.manifest.n_packs}"
            )
        unknown = sorted(set(packs.column("shard").to_pylist()) - set(self._shards))
        if unknown:
            raise ShardFormatError(
                f"pack index: packs point at shards the manifest does not list: {unknown[:5]}"
            )
        return packs

    def _check_shards(self) -> None:
        needed = sorted({self._shard_of[int(p)] for p in self._plan_ids})
        if self.dp_size == self.manifest.dp_size:
            foreign = [s for s in needed if self._shards[s].rank != self.dp_rank]
            if foreign:
                raise ShardFormatError(
                    f"packs of rank {self.dp_rank} sit in shards the manifest gives to other ranks: {foreign[:5]}"
                )
        for rel in needed:
            entry = self._shards[rel]
            path = inside(self.out_dir, rel)
            if not path.is_file():
                raise ShardFormatError(f"shard {rel}: listed in the manifest but missing on disk")
            size = path.stat().st_size
            if size != entry.bytes:
                raise ShardFormatError(f"shard {rel}: {size} bytes on disk, the manifest says {entry.bytes}")
            if self.verify:
                got = sha256_file(path)
                if got != entry.sha256:
                    raise ShardFormatError(
                        f"shard {rel}: sha256 {got} does not match the manifest ({entry.sha256}); "
                        "the file is corrupt or changed after the manifest was written"
                    )
        self.shards = needed

    # ---------------------------------------------------------------- order and state
    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch`` from its first pack."""
        self.epoch = epoch
        order = np.lexsort((self._plan_micro, self._plan_steps))
        if self.shuffle_steps and len(order):
            n_steps = int(self._plan_steps.max()) + 1
            rank_of_step = np.empty(n_steps, dtype=np.int64)
            rank_of_step[step_permutation(n_steps, self.seed, epoch)] = np.arange(n_steps)
            order = np.lexsort((self._plan_micro, rank_of_step[self._plan_steps]))
        self._order = order
        self._position = 0

    def __len__(self) -> int:
        return len(self._plan_ids)

    @property
    def n_steps(self) -> int:
        return len(self) // self.packs_per_rank_step if self.packs_per_rank_step else 0

    def state_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "position": self._position,
            "seed": self.seed,
            "dp_rank": self.dp_rank,
            "dp_size": self.dp_size,
            "shuffle_steps": self.shuffle_steps,
            "config_fingerprint": self.manifest.config_fingerprint,
        }

    def load_state_dict(self, state: dict) -> None:
        for name, mine in (
            ("config_fingerprint", self.manifest.config_fingerprint),
            ("dp_rank", self.dp_rank),
            ("dp_size", self.dp_size),
            ("seed", self.seed),
            ("shuffle_steps", self.shuffle_steps),
        ):
            if state.get(name, mine) != mine:
                raise ValueError(f"state {name}: {state[name]!r} does not match this dataset ({mine!r})")
        position = int(state["position"])
        if not 0 <= position <= len(self):
            raise ValueError(f"state position: {position} must be in [0, {len(self)}]")
        self.set_epoch(int(state["epoch"]))
        self._position = position

    def advance(self, item: dict) -> None:
        """Record that ``item`` reached the trainer (PackLoader calls this)."""
        self._position = int(item["position"]) + 1

    # ---------------------------------------------------------------- iteration
    def __iter__(self):
        from torch.utils.data import get_worker_info

        info = get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        reader = _ShardReader(self.out_dir)
        try:
            for position in range(self._position + worker, len(self), workers):
                item = self.load_pack(position, reader)
                if info is None:
                    self._position = position + 1
                yield item
        finally:
            reader.close()

    def load_pack(self, position: int, reader: _ShardReader | None = None) -> dict:
        """The tensors of the pack at ``position`` in this epoch's order."""
        idx = int(self._order[position])
        pack_id = int(self._plan_ids[idx])
        own = reader is None
        reader = reader or _ShardReader(self.out_dir)
        try:
            raw = reader.pack(self._shard_of[pack_id], pack_key(pack_id))
        finally:
            if own:
                reader.close()
        item = assemble_pack(raw, pack_id, self)
        item.update(
            pack_id=pack_id,
            step=int(self._plan_steps[idx]),
            micro=int(self._plan_micro[idx]),
            position=position,
        )
        return item


class _ShardReader:
    """Open shard files and their header indexes, one per worker."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self._index: dict[str, dict[str, tuple[int, int]]] = {}
        self._files: dict[str, object] = {}

    def pack(self, shard: str, key: str) -> dict[str, bytes]:
        if shard not in self._index:
            path = inside(self.out_dir, shard)
            self._index[shard] = tar_members(path)
            self._files[shard] = open(path, "rb")  # noqa: SIM115 - closed in close()
        prefix = key + "."
        members = {n[len(prefix) :]: loc for n, loc in self._index[shard].items() if n.startswith(prefix)}
        if not members:
            raise ShardFormatError(f"shard {shard}: pack {key} is listed in packs.parquet but not in the tar")
        fh = self._files[shard]
        out = {}
        for suffix, (offset, size) in members.items():
            fh.seek(offset)
            out[suffix] = fh.read(size)
        out["__shard__"] = shard.encode()
        return out

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()


def _load_int_array(raw: dict[str, bytes], suffix: str, where: str, seq_len: int) -> np.ndarray:
    if suffix not in raw:
        raise ShardFormatError(f"{where}: member .{suffix} is missing")
    try:
        arr = np.load(io.BytesIO(raw[suffix]), allow_pickle=False)
    except ValueError as exc:
        raise ShardFormatError(f"{where}: .{suffix} is not a valid .npy: {exc}") from exc
    if arr.ndim != 1 or arr.shape[0] != seq_len or arr.dtype.kind not in "iu":
        raise ShardFormatError(
            f"{where}: .{suffix} must be 1-D integers of length seq_len={seq_len}, got {arr.dtype} {arr.shape}"
        )
    return arr.astype(np.int64)


def segment_bounds(layout: PackLayout, where: str) -> list[int]:
    """cu_seqlens as a host list: sample boundaries, plus the trailing padding as its own segment."""
    bounds = [0]
    for j, sample in enumerate(layout.samples):
        if sample.offset != bounds[-1] or sample.length < 0:
            raise ShardFormatError(
                f"{where}: sample {j} ({sample.id}) starts at {sample.offset}, expected {bounds[-1]} "
                "(samples must be contiguous from 0)"
            )
        bounds.append(sample.offset + sample.length)
    if bounds[-1] != layout.real_tokens or layout.real_tokens > layout.seq_len:
        raise ShardFormatError(
            f"{where}: samples cover {bounds[-1]} tokens, real_tokens={layout.real_tokens}, seq_len={layout.seq_len}"
        )
    if layout.real_tokens < layout.seq_len:
        bounds.append(layout.seq_len)
    return bounds


def positions_1d(bounds: list[int]) -> np.ndarray:
    """0, 1, 2, ... restarting at every segment start."""
    starts = np.repeat(np.asarray(bounds[:-1], dtype=np.int64), np.diff(bounds))
    return np.arange(bounds[-1], dtype=np.int64) - starts


def mrope_positions(bounds: list[int], images: list[ImageLayout]) -> np.ndarray:
    """Qwen2-VL 3-D rope positions (t, h, w), restarting per sample (get_rope_index, per segment)."""
    total = bounds[-1]
    pos = np.zeros((3, total), dtype=np.int64)
    by_start = sorted(images, key=lambda im: im.offset)
    k = 0
    for start, end in pairwise(bounds):
        cursor, nxt = start, 0
        while k < len(by_start) and by_start[k].offset < end:
            im = by_start[k]
            text = im.offset - cursor
            pos[:, cursor : im.offset] = nxt + np.arange(text)
            nxt += text
            t, h, w = im.grid_thw[0], im.grid_thw[1] // MERGE_SIZE, im.grid_thw[2] // MERGE_SIZE
            grid = np.stack(np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")).reshape(
                3, -1
            )
            pos[:, im.offset : im.offset + im.tokens] = nxt + grid
            nxt += max(t, h, w)
            cursor = im.offset + im.tokens
            k += 1
        pos[:, cursor:end] = nxt + np.arange(end - cursor)
    return pos


def _media_frames(raw: dict[str, bytes], im: ImageLayout, i: int, where: str) -> list[tuple[str, bytes]]:
    if im.kind == "video" and im.frames is None:
        raise ShardFormatError(
            f"{where}: video {i} is stored whole as .{im.member}; the bridge decodes videos given as frame "
            "images (members .<i>.f<j>.<ext>) only"
        )
    if im.kind == "video":
        prefix = f"{i}.f"
        found = []
        for suffix, data in raw.items():
            if suffix.startswith(prefix):
                j = suffix[len(prefix) :].split(".", 1)[0]
                if j.isdigit():
                    found.append((int(j), suffix, data))
        found.sort()
        if not found or (im.frames is not None and len(found) != len(im.frames)):
            want = len(im.frames) if im.frames is not None else "some"
            raise ShardFormatError(
                f"{where}: video {i} has {len(found)} frame members .{prefix}<j>.*, expected {want}"
            )
        return [(s, d) for _, s, d in found]
    if im.member not in raw:
        raise ShardFormatError(f"{where}: media member .{im.member} is missing")
    return [(im.member, raw[im.member])]


def assemble_pack(raw: dict[str, bytes], pack_id: int, ds: PackedShardDataset) -> dict:
    """Members of one pack -> tensors, checking the layout against tokens and pixels."""
    import torch

    key = pack_key(pack_id)
    where = f"shard {raw['__shard__'].decode()} pack {key}"
    if "json" not in raw:
        raise ShardFormatError(f"{where}: member .json (the PackLayout) is missing")
    try:
        layout = PackLayout.model_validate_json(raw["json"])
    except ValueError as exc:
        raise ShardFormatError(f"{where}: bad PackLayout JSON: {exc}") from exc
    if layout.pack_id != pack_id:
        raise ShardFormatError(f"{where}: layout says pack_id {layout.pack_id}")
    input_ids = _load_int_array(raw, "tokens.npy", where, layout.seq_len)
    labels = _load_int_array(raw, "labels.npy", where, layout.seq_len)
    bounds = segment_bounds(layout, where)

    sample_index = np.full(layout.seq_len, -1, dtype=np.int32)
    sample_index[: layout.real_tokens] = np.repeat(
        np.arange(len(layout.samples), dtype=np.int32), [s.length for s in layout.samples]
    )
    vision_mask = np.zeros(layout.seq_len, dtype=bool)
    pixel_chunks, grids, kinds = [], [], []
    expected_pads = {ds.image_pad_id: 0, ds.video_pad_id: 0}
    for i, im in enumerate(layout.images):
        name = f"{where} media {i}"
        _, gh, gw = im.grid_thw
        width, height = im.target_size
        if (gh * PATCH_SIZE, gw * PATCH_SIZE) != (height, width):
            raise ShardFormatError(
                f"{name}: target_size {width}x{height} does not match grid_thw {im.grid_thw} (patch {PATCH_SIZE})"
            )
        frames = np.stack(
            [
                normalised_pixels(decode_rgb(data, f"{where} .{suffix}"), (width, height))
                for suffix, data in _media_frames(raw, im, i, where)
            ]
        )
        patches, grid = patchify(frames, temporal_patch_size=TEMPORAL_PATCH_SIZE)
        if grid != tuple(im.grid_thw):
            raise ShardFormatError(
                f"{name}: decoded grid {grid} differs from the planned grid_thw {im.grid_thw}"
            )
        merged = patches.shape[0] // (MERGE_SIZE * MERGE_SIZE)
        span = input_ids[im.offset : im.offset + im.tokens]
        pad_id = ds.video_pad_id if im.kind == "video" else ds.image_pad_id
        if (
            im.tokens != merged
            or span.shape[0] != im.tokens
            or im.offset + im.tokens > layout.real_tokens
            or (span.size and np.any(span != (span[0] if pad_id is None else pad_id)))
        ):
            raise ShardFormatError(
                f"{name}: {im.tokens} pad tokens planned at offset {im.offset}, but the pixels give "
                f"{patches.shape[0]} patches = {merged} tokens, or input_ids there are not all the pad id"
            )
        expected_pads[pad_id] = expected_pads.get(pad_id, 0) + im.tokens
        vision_mask[im.offset : im.offset + im.tokens] = True
        pixel_chunks.append(patches)
        grids.append(grid)
        kinds.append(im.kind)
    for pad_id, count in expected_pads.items():
        if pad_id is not None and int(np.count_nonzero(input_ids == pad_id)) != count:
            raise ShardFormatError(
                f"{where}: input_ids hold {int(np.count_nonzero(input_ids == pad_id))} tokens of pad id "
                f"{pad_id}, the layout plans {count}"
            )

    if ds.mrope:
        position_ids = mrope_positions(bounds, layout.images)
    else:
        position_ids = positions_1d(bounds)
    width = 3 * TEMPORAL_PATCH_SIZE * PATCH_SIZE * PATCH_SIZE
    pixels = np.concatenate(pixel_chunks) if pixel_chunks else np.zeros((0, width), dtype=np.float32)
    return {
        "input_ids": torch.from_numpy(input_ids),
        "labels": torch.from_numpy(labels),
        "position_ids": torch.from_numpy(position_ids),
        "cu_seqlens": torch.tensor(bounds, dtype=torch.int32),
        "cu_seqlens_list": bounds,
        "max_seqlen": int(max(np.diff(bounds), default=0)),
        "sample_index": torch.from_numpy(sample_index),
        "pixel_values": torch.from_numpy(pixels),
        "image_grid_thw": torch.tensor(grids, dtype=torch.long).reshape(-1, 3),
        "vision_mask": torch.from_numpy(vision_mask),
        "media_kind": kinds,
        "sample_ids": [s.id for s in layout.samples],
        "seq_len": layout.seq_len,
        "real_tokens": layout.real_tokens,
    }


class PackLoader:
    """A DataLoader over a PackedShardDataset (one pack per item) that keeps the resume state exact.

    Workers prefetch, so only the main process knows which packs reached the trainer; this wrapper
    advances the dataset's position as each pack is handed out. ``state_dict()`` is then valid after
    any number of packs, whatever ``num_workers``.
    """

    def __init__(
        self,
        dataset: PackedShardDataset,
        *,
        num_workers: int = 0,
        pin_memory: bool = False,
        prefetch_factor: int | None = None,
    ):
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.prefetch_factor = prefetch_factor

    def __iter__(self):
        from torch.utils.data import DataLoader

        kwargs = (
            {"prefetch_factor": self.prefetch_factor} if self.num_workers and self.prefetch_factor else {}
        )
        loader = DataLoader(
            self.dataset,
            batch_size=None,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=False,  # workers must start from the current position
            **kwargs,
        )
        for item in loader:
            self.dataset.advance(item)
            yield item

    def __len__(self) -> int:
        return len(self.dataset) - self.dataset.state_dict()["position"]

    def state_dict(self) -> dict:
        return self.dataset.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.dataset.load_state_dict(state)
