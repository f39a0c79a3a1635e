"""``PackedShardDataset``: ready-to-train tensors from a committed vlpack output directory.

Trust: only ``manifest.json`` (written last by the packer) says what exists. The index
``packs.parquet`` is checked against the manifest's sha256 when the dataset is made; every shard is
checked when it is first opened (``verify=True``, lazy: a run starts at once and hashes only the shards
it reads) or all of this rank's shards up front (``verify="full"``). A mismatch is an error naming the
shard, raised before any of its bytes are used. Shard paths must stay inside OUT.

Order: one epoch is one global sequence of packs (``rank_plan``), cut into global steps; a rank's packs
come in (step, micro) order: the packer's plan, or a re-dealt one for another dp_size. With
``num_workers`` DataLoader workers, worker w takes positions start + w, start + w + W, ...; torch's
in-order round-robin over workers then hands the trainer the exact same sequence as ``num_workers=0``.
Every worker indexes the tar headers of the shards it needs and reads only its own packs' bytes.

Resume: ``state_dict()`` holds the epoch, this rank's position (packs already handed to the trainer)
and the global position (packs of the epoch consumed by all ranks at the last step boundary).
``load_state_dict`` resumes at any pack under the same dp size, and at a step boundary under another
dp size (elastic resume: the remaining packs are re-dealt and each is trained exactly once). Iterate
with ``PackLoader`` (or in the main process): a plain multi-worker ``DataLoader`` cannot tell the
dataset which packs reached the trainer, so it is refused rather than silently resuming from the start.

Static shapes (``pad_to_bucket=True``, the default): every tensor has the pack's planned shape from
``packs.parquet``: ``seq_len`` tokens, and ``vit_bucket`` rows of ``pixel_values`` when the packer chose
a ViT bucket. The extra ViT rows are zeros and form one dummy image of grid ``(1, 2, pad / 2)`` (merge
size 2), the last row of ``image_grid_thw``; ``vit_pad_patches`` says how many rows it has. Its merged
outputs belong to no sample: ``trainer_bridge.hf`` places them on the pack's trailing padding, whose
tokens attend only to each other and carry no loss, so real tokens and the loss never see them.

Per pack (one webdataset sample KEY.*) it yields a dict:
    input_ids [T] int64, labels [T] int64 (-100: no loss; aligned with input_ids, not shifted),
    position_ids [3, T] Qwen2-VL mRoPE positions restarting per sample (``mrope``, the default for
    shards in the Qwen2-VL chat layout) or [T] 1-D positions (``mrope=False``),
    cu_seqlens [S+1] int32 (trailing padding is its own segment), cu_seqlens_list (host list, for
    Ascend's actual_seq_qlen), max_seqlen, sample_index [T] int32 (-1 on padding),
    pixel_values [patches, 3*2*14*14] float32, image_grid_thw [n, 3] int64, vision_mask [T] bool
    (the pad tokens the merged patches of real media replace, in order), media_kind, media_fps and
    media_sample (per real medium: "image"/"video", a video's sampled frames per second or None, and
    the index of its sample),
    vit_pad_patches, pack_id, step, micro, position, global_position, step_packs (packs in this
    pack's global step), sample_ids, seq_len, real_tokens, vit_bucket.
"""

from __future__ import annotations

import io
import tarfile
import threading
from itertools import pairwise
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.manifest import MANIFEST_NAME, ImageLayout, Manifest, PackLayout, index_files, pack_key
from schemas.manifest import file_sha256 as sha256_file
from trainer_bridge.pixels import (
    MERGE_SIZE,
    PATCH_SIZE,
    TEMPORAL_PATCH_SIZE,
    decode_rgb,
    normalised_pixels,
    patchify,
)
from trainer_bridge.rank_plan import epoch_order, plan_ranks

IGNORE_INDEX = -100
IMAGE_PAD_NAMES = ("<|image_pad|>", "image_pad")
VIDEO_PAD_NAMES = ("<|video_pad|>", "video_pad")
VISION_START_NAMES = ("<|vision_start|>", "vision_start")
VERIFY_MODES = (True, False, "full")
ONE_STORAGE_KEY = "__one_storage__"
STORAGE_ALIGN = 64  # bytes

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


def inside(out_dir: Path, rel: str) -> Path:
    """OUT/rel, refusing absolute paths and '..' (a manifest must not point outside OUT)."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ShardFormatError(f"manifest path {rel!r} must be relative and stay inside {out_dir}")
    return out_dir / pure


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
        verify: bool | str = True,
        shuffle_steps: bool = False,
        mrope: bool | None = None,
        packs_per_step: int | None = None,
        pad_to_bucket: bool = True,
    ):
        self.out_dir = Path(out_dir)
        if dp_size < 1:
            raise ValueError(f"dp_size: {dp_size} must be >= 1")
        if not 0 <= dp_rank < dp_size:
            raise ValueError(f"dp_rank: {dp_rank} must be in [0, {dp_size - 1}] for dp_size {dp_size}")
        if epoch < 0:
            raise ValueError(f"epoch: {epoch} must be >= 0")
        if verify not in VERIFY_MODES:
            raise ValueError(f"verify: {verify!r} is not allowed; use one of {VERIFY_MODES}")
        self.dp_rank, self.dp_size = dp_rank, dp_size
        self.seed, self.verify, self.shuffle_steps = seed, verify, shuffle_steps
        self.pad_to_bucket = pad_to_bucket
        self.manifest = read_manifest(self.out_dir)
        m = self.manifest
        self.packed_packs_per_step = m.dp_size * m.micro_batch * m.grad_accum
        if packs_per_step is not None and packs_per_step < 1:
            raise ValueError(f"packs_per_step: {packs_per_step} must be >= 1")
        self.packs_per_step = packs_per_step or self.packed_packs_per_step
        self._shards = {s.path: s for s in m.shards}
        self._packs = self._read_packs_index()
        cols = {c: self._packs.column(c).to_pylist() for c in ("pack_id", "shard")}
        self._shard_of = dict(zip(cols["pack_id"], cols["shard"], strict=True))
        self._planned_shape = {
            pid: (seq, vb)
            for pid, seq, vb in zip(
                cols["pack_id"], self._column_or("seq_len", None), self._column_or("vit_bucket", 0), strict=True
            )
        }
        self.image_pad_id = self._special(IMAGE_PAD_NAMES)
        self.video_pad_id = self._special(VIDEO_PAD_NAMES)
        qwen_layout = self.image_pad_id is not None and self._special(VISION_START_NAMES) is not None
        self.mrope = qwen_layout if mrope is None else bool(mrope)
        self._verified: set[str] = set()
        self.set_epoch(epoch)

    # ---------------------------------------------------------------- setup
    def _special(self, names) -> int | None:
        for name in names:
            if name in self.manifest.special_tokens:
                return int(self.manifest.special_tokens[name])
        return None

    def _column_or(self, name: str, default):
        if name in self._packs.column_names:
            return [default if v is None else int(v) for v in self._packs.column(name).to_pylist()]
        return [default] * self._packs.num_rows

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

    def _check_shards(self, packer_assignment: bool) -> None:
        needed = sorted({self._shard_of[int(p)] for p in self._plan_ids})
        if packer_assignment:
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
            if self.verify == "full" and rel not in self._verified:
                check_shard_sha256(path, rel, entry.sha256)
                self._verified.add(rel)
        self.shards = needed

    # ---------------------------------------------------------------- order and state
    def _replan(self, epoch: int, start: int) -> None:
        """This rank's packs of ``epoch``, from global position ``start`` of the epoch's sequence."""
        order = epoch_order(self._packs, shuffle=self.shuffle_steps, seed=self.seed, epoch=epoch)
        packed = (self.manifest.dp_size, self.packed_packs_per_step)
        plan = plan_ranks(
            self._packs, order, dp_size=self.dp_size, packs_per_step=self.packs_per_step, packed=packed, start=start
        )
        mine = np.asarray(plan.column("rank").to_numpy()) == self.dp_rank
        arrays = {c: np.asarray(plan.column(c).to_numpy())[mine] for c in plan.column_names}
        self._plan_ids = arrays["pack_id"]
        self._plan_steps = arrays["step"]
        self._plan_micro = arrays["micro"]
        self._plan_global = arrays["global_position"]
        self._plan_step_packs = arrays["step_packs"]
        self._plan_start = start
        self._epoch_packs = len(order)
        self.epoch = epoch
        self._position = 0
        self._check_shards(packer_assignment=start == 0 and packed == (self.dp_size, self.packs_per_step))

    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch`` from its first pack."""
        self._replan(epoch, 0)

    @property
    def packs_per_rank_step(self) -> int:
        return self.packs_per_step // self.dp_size

    def __len__(self) -> int:
        return len(self._plan_ids)

    @property
    def n_steps(self) -> int:
        return int(self._plan_steps.max()) + 1 if len(self._plan_steps) else 0

    def global_position(self) -> tuple[int, int]:
        """(packs of the epoch consumed by all ranks at the start of the current step, packs this rank
        has consumed since then). In lockstep training every rank gives the same first figure."""
        p = self._position
        if p >= len(self):
            return self._epoch_packs, 0
        step = self._plan_steps[p]
        first = int(np.searchsorted(self._plan_steps, step, side="left"))
        return self._plan_start + int(step) * self.packs_per_step, p - first

    def state_dict(self) -> dict:
        global_position, mid_step = self.global_position()
        return {
            "epoch": self.epoch,
            "position": self._position,
            "plan_start": self._plan_start,
            "global_position": global_position,
            "mid_step": mid_step,
            "packs_per_step": self.packs_per_step,
            "seed": self.seed,
            "dp_rank": self.dp_rank,
            "dp_size": self.dp_size,
            "shuffle_steps": self.shuffle_steps,
            "config_fingerprint": self.manifest.config_fingerprint,
            "job_fingerprint": self.manifest.job_fingerprint,
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume where ``state`` left off: exactly under the same dp size and global batch, or from the
        global position under another dp size (elastic; needs a state saved at a step boundary)."""
        for name, mine in (
            ("config_fingerprint", self.manifest.config_fingerprint),
            ("job_fingerprint", self.manifest.job_fingerprint),  # config and inputs; "" before vlpack 0.2
            ("seed", self.seed),
            ("shuffle_steps", self.shuffle_steps),
        ):
            if state.get(name, mine) != mine:
                raise ValueError(f"state {name}: {state[name]!r} does not match this dataset ({mine!r})")
        epoch = int(state["epoch"])
        same = (state.get("dp_size", self.dp_size), state.get("packs_per_step", self.packs_per_step)) == (
            self.dp_size,
            self.packs_per_step,
        )
        if same:
            if state.get("dp_rank", self.dp_rank) != self.dp_rank:
                raise ValueError(
                    f"state dp_rank: {state['dp_rank']!r} does not match this dataset ({self.dp_rank!r}); "
                    "under the same dp size every rank loads its own state"
                )
            self._replan(epoch, int(state.get("plan_start", 0)))
            position = int(state["position"])
            if not 0 <= position <= len(self):
                raise ValueError(f"state position: {position} must be in [0, {len(self)}]")
            self._position = position
            return
        if "global_position" not in state:
            raise ValueError(
                f"state: saved under dp_size {state.get('dp_size')} without a global position (an older "
                f"state); it can only resume under dp_size {state.get('dp_size')}"
            )
        if int(state.get("mid_step", 0)):
            raise ValueError(
                f"state: saved {state['mid_step']} packs into a global step (position {state['position']} "
                f"under dp_size {state['dp_size']}); resuming under dp_size {self.dp_size} needs a state "
                "saved at a step boundary (after the optimizer step)"
            )
        self._replan(epoch, int(state["global_position"]))

    def advance(self, item: dict) -> None:
        """Record that ``item`` reached the trainer (PackLoader calls this)."""
        self._position = int(item["position"]) + 1
        self._verified.update(item.get("verified_shards", ()))

    # ---------------------------------------------------------------- iteration
    def __iter__(self):
        from torch.utils.data import get_worker_info

        info = get_worker_info()
        if info is not None and not getattr(self, "_pack_loader", False):
            raise RuntimeError(
                "PackedShardDataset in a DataLoader with num_workers > 0: the workers cannot tell the dataset "
                "which packs reached the trainer, so state_dict() would resume from the start of the epoch. "
                "Use trainer_bridge.PackLoader(dataset, num_workers=N) instead (same prefetching, exact resume)."
            )
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        positions = range(self._position + worker, len(self), workers)
        reader = self._reader()
        reader.upcoming = list(dict.fromkeys(self._shard_of[int(self._plan_ids[p])] for p in positions))
        try:
            for position in positions:
                item = self.load_pack(position, reader)
                if info is None:
                    self._position = position + 1
                yield item
        finally:
            reader.close()

    def _reader(self) -> _ShardReader:
        expected = {rel: e.sha256 for rel, e in self._shards.items()} if self.verify else None
        return _ShardReader(self.out_dir, expected, self._verified)

    def load_pack(self, position: int, reader: _ShardReader | None = None) -> dict:
        """The tensors of the pack at ``position`` in this rank's order."""
        pack_id = int(self._plan_ids[position])
        own = reader is None
        reader = reader or self._reader()
        try:
            raw = reader.pack(self._shard_of[pack_id], pack_key(pack_id))
        finally:
            if own:
                reader.close()
        item = assemble_pack(raw, pack_id, self)
        item.update(
            pack_id=pack_id,
            step=int(self._plan_steps[position]),
            micro=int(self._plan_micro[position]),
            position=position,
            global_position=int(self._plan_global[position]),
            step_packs=int(self._plan_step_packs[position]),
            verified_shards=reader.take_newly_verified(),
        )
        return item


def check_shard_sha256(path: Path, rel: str, expected: str, got: str | None = None) -> None:
    got = sha256_file(path) if got is None else got
    if got != expected:
        raise ShardFormatError(
            f"shard {rel}: sha256 {got} does not match the manifest ({expected}); the file is corrupt or "
            "changed after the manifest was written; stopped before using any pack from it"
        )


class _HashAhead:
    """A shard's sha256, computed in a background thread before its reader needs it (hashlib and file
    reads release the GIL, so the thread runs beside the decoding)."""

    def __init__(self, path: Path):
        self.path = path
        self.digest: str | None = None
        self.error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name=f"vlpack-sha256 {path.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.digest = sha256_file(self.path)
        except OSError as exc:  # re-raised where the shard is opened
            self.error = exc

    def result(self) -> str:
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.digest


class _ShardReader:
    """Open shard files and their header indexes, one per worker; checks each shard's sha256 on first
    open (``expected``: relative path -> sha256, or None to skip) unless it is in ``verified``.

    ``upcoming``: the shards this reader will open, in order. When it opens one, it starts hashing the
    next unverified one in the background, so a large shard's whole-file hash is done before its first
    pack is wanted instead of stalling that pack; the check itself (and its error) still happens when
    the shard is opened, before any of its bytes are used."""

    def __init__(self, out_dir: Path, expected: dict[str, str] | None = None, verified: set[str] | None = None):
        self.out_dir = out_dir
        self.expected = expected
        self.verified = verified if verified is not None else set()
        self.upcoming: list[str] = []
        self._ahead: dict[str, _HashAhead] = {}
        self._new: list[str] = []
        self._index: dict[str, dict[str, tuple[int, int]]] = {}
        self._files: dict[str, object] = {}

    def _open(self, shard: str) -> None:
        path = inside(self.out_dir, shard)
        if self.expected is not None and shard not in self.verified:
            ahead = self._ahead.pop(shard, None)
            check_shard_sha256(path, shard, self.expected[shard], None if ahead is None else ahead.result())
            self.verified.add(shard)
            self._new.append(shard)
        self._index[shard] = tar_members(path)
        self._files[shard] = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._hash_next(shard)

    def _hash_next(self, opened: str) -> None:
        if self.expected is None or opened not in self.upcoming:
            return
        for shard in self.upcoming[self.upcoming.index(opened) + 1 :]:
            if shard not in self.verified and shard not in self._index:
                if shard not in self._ahead:
                    self._ahead[shard] = _HashAhead(inside(self.out_dir, shard))
                return

    def take_newly_verified(self) -> list[str]:
        new, self._new = self._new, []
        return new

    def pack(self, shard: str, key: str) -> dict[str, bytes]:
        if shard not in self._index:
            self._open(shard)
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


def vit_pad_grid(pad_patches: int) -> tuple[int, int, int]:
    """The dummy image grid (t, h, w) of ``pad_patches`` ViT padding rows: one frame, two patches high."""
    return (1, MERGE_SIZE, pad_patches // MERGE_SIZE)


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
    planned_seq_len, vit_bucket = ds._planned_shape.get(pack_id, (None, 0))
    if planned_seq_len is not None and planned_seq_len != layout.seq_len:
        raise ShardFormatError(
            f"{where}: layout seq_len {layout.seq_len} differs from packs.parquet's planned seq_len {planned_seq_len}"
        )
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
    vit_pad = 0
    if ds.pad_to_bucket and vit_bucket:
        vit_pad = vit_bucket - pixels.shape[0]
        unit = MERGE_SIZE * MERGE_SIZE
        if vit_pad < 0 or vit_pad % unit:
            raise ShardFormatError(
                f"{where}: packs.parquet plans a ViT bucket of {vit_bucket} patches for {pixels.shape[0]} real "
                f"patches; the bucket must hold them and pad by a multiple of {unit}"
            )
        if vit_pad:
            pixels = np.concatenate([pixels, np.zeros((vit_pad, width), dtype=np.float32)])
            grids.append(vit_pad_grid(vit_pad))
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
        "media_fps": [im.fps for im in layout.images],
        "media_sample": [im.sample for im in layout.images],
        "vit_pad_patches": vit_pad,
        "vit_bucket": int(vit_bucket or pixels.shape[0]),
        "sample_ids": [s.id for s in layout.samples],
        "seq_len": layout.seq_len,
        "real_tokens": layout.real_tokens,
    }


def one_storage(item: dict) -> dict:
    """A pack's tensors copied into one buffer (a DataLoader worker's ``collate_fn``; see PackLoader).

    A tensor crosses from a worker to the trainer through shared memory, and with torch's default
    ``file_descriptor`` strategy each storage costs the trainer a socket round trip to the worker to
    receive its descriptor, while the worker may be busy decoding the next pack. One buffer per pack
    makes that one round trip instead of one per tensor. ``from_one_storage`` gives the tensors back.
    """
    import torch

    tensors = {k: v.contiguous() for k, v in item.items() if isinstance(v, torch.Tensor)}
    layout, size = [], 0
    for name, t in tensors.items():
        nbytes = t.numel() * t.element_size()
        layout.append((name, t.dtype, tuple(t.shape), size, nbytes))
        size += -(-nbytes // STORAGE_ALIGN) * STORAGE_ALIGN  # every view starts aligned for its dtype
    buffer = torch.empty(size, dtype=torch.uint8)
    for (_, _, _, offset, nbytes), t in zip(layout, tensors.values()):
        if nbytes:
            buffer[offset : offset + nbytes].copy_(t.reshape(-1).view(torch.uint8))
    rest = {k: v for k, v in item.items() if k not in tensors}
    rest[ONE_STORAGE_KEY] = (buffer, layout)
    return rest


def from_one_storage(item: dict) -> dict:
    """The pack as ``one_storage`` found it: every tensor a view of the one shared buffer."""
    buffer, layout = item.pop(ONE_STORAGE_KEY)
    for name, dtype, shape, offset, nbytes in layout:
        item[name] = buffer[offset : offset + nbytes].view(dtype).reshape(shape)
    return item


class _PackStream:
    """PackLoader's iterator: the DataLoader's iterator is made (its workers start and begin to
    prefetch) as soon as this is, and each pack advances the dataset as it reaches the trainer."""

    def __init__(self, loader: PackLoader):
        from torch.utils.data import DataLoader

        self.dataset = loader.dataset
        self.workers = loader.num_workers
        kwargs = {"prefetch_factor": loader.prefetch_factor} if self.workers and loader.prefetch_factor else {}
        if self.workers:
            kwargs["collate_fn"] = one_storage
        data = DataLoader(
            self.dataset,
            batch_size=None,
            num_workers=self.workers,
            pin_memory=loader.pin_memory,
            persistent_workers=False,  # workers must start from the current position
            **kwargs,
        )
        self.dataset._pack_loader = True  # workers copy the dataset when the iterator starts
        try:
            self._packs = iter(data)
        finally:
            self.dataset._pack_loader = False

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        item = next(self._packs)
        if self.workers:
            item = from_one_storage(item)
        self.dataset.advance(item)
        return item


class PackLoader:
    """A DataLoader over a PackedShardDataset (one pack per item) that keeps the resume state exact.

    Workers prefetch, so only the main process knows which packs reached the trainer; this wrapper
    advances the dataset's position as each pack is handed out. ``state_dict()`` is then valid after
    any number of packs, whatever ``num_workers``.

    ``iter(loader)`` starts the workers at once (as a DataLoader's iterator does), so a trainer that
    makes its iterator before building its model has the first packs decoded by its first step. Each
    pack crosses from a worker as one shared buffer (``one_storage``): one descriptor hand-over per
    pack, not one per tensor, so the trainer's wait for a prefetched pack stays short while the worker
    decodes the next one.
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

    def __iter__(self) -> _PackStream:
        return _PackStream(self)

    def __len__(self) -> int:
        return len(self.dataset) - self.dataset.state_dict()["position"]

    def state_dict(self) -> dict:
        return self.dataset.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.dataset.load_state_dict(state)
