"""Vision token counts from metadata alone: images (smart resize) and video (frame-budget rule).

Images follow Qwen2-VL's `smart_resize`: both sides become multiples of
`factor = patch_size * merge_size` (28 by default), the pixel count is brought into
`[min_pixels, max_pixels]`, and the aspect ratio is kept as far as possible. Rounding is
Python's `round` (half to even). An image then costs `(h / factor) * (w / factor)` pad
tokens (plus `<|vision_start|>` / `<|vision_end|>`, counted by the chat renderer) and
`merge_size**2` ViT patches per pad token.

The scalar functions raise `MediaTokenError` (with a `.reason` code) on bad input; the numpy
forms return a boolean `bad` mask instead and are bit-identical to the scalar form on every
good row.

Video follows report §2.4 (`plan_video`): frames are sampled at a random fps for untimed tasks
(seeded by sample_id) or a constant fps for temporal tasks, the per-frame pixel cap falls as the
frame count rises, and the total token budget is enforced by dropping frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xxhash

from schemas.tokens_config import TokensConfig

DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 1344 * 1344
DEFAULT_PATCH_SIZE = 14
DEFAULT_MERGE_SIZE = 2
DEFAULT_MAX_ASPECT_RATIO = 200.0


class SampleError(ValueError):
    """A per-sample data fault: the sample becomes a ledger row with `reason`, the job goes on."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class MediaTokenError(SampleError):
    """The media metadata of a sample cannot be turned into a token count."""


class AspectRatioError(MediaTokenError):
    def __init__(self, width: float, height: float, max_aspect_ratio: float) -> None:
        ratio = max(width, height) / min(width, height)
        super().__init__(
            "tokens.aspect_ratio",
            f"aspect ratio {ratio:.1f} of {width}x{height} exceeds max_aspect_ratio={max_aspect_ratio}",
        )


# ---------------------------------------------------------------------------------------------
# Images, scalar


def _check_resize_args(min_pixels: int, max_pixels: int, patch_size: int, merge_size: int) -> int:
    if patch_size < 1 or merge_size < 1:
        raise ValueError(f"patch_size ({patch_size}) and merge_size ({merge_size}) must be >= 1")
    if not 1 <= min_pixels <= max_pixels:
        raise ValueError(f"need 1 <= min_pixels ({min_pixels}) <= max_pixels ({max_pixels})")
    return patch_size * merge_size


def _smart_resize(width: int, height: int, factor: int, min_pixels: float, max_pixels: float,
                  max_aspect_ratio: float) -> tuple[int, int]:
    """Qwen2-VL smart resize on validated positive sizes. Returns (w, h)."""
    if max(height, width) / min(height, width) > max_aspect_ratio:
        raise AspectRatioError(width, height, max_aspect_ratio)
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        # qwen-vl-utils floors without a lower bound, which gives a zero side (zero tokens) only
        # for ratios above max_pixels / factor**2; keep at least one factor there.
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return w_bar, h_bar


def _positive_size(width, height) -> tuple[int, int]:
    if type(width) is int and type(height) is int and width > 0 and height > 0:  # the usual case
        return width, height
    out = []
    for name, v in (("width", width), ("height", height)):
        if v is None:
            raise MediaTokenError("tokens.missing_size", f"{name} is missing")
        if not isinstance(v, (int, np.integer)):
            f = float(v)
            if not math.isfinite(f) or f != math.floor(f):
                raise MediaTokenError("tokens.bad_size", f"{name}={v!r} is not a whole number")
        if int(v) <= 0:
            raise MediaTokenError("tokens.bad_size", f"{name}={v!r} must be > 0")
        out.append(int(v))
    return out[0], out[1]


def resized_size(
    width: int,
    height: int,
    *,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    patch_size: int = DEFAULT_PATCH_SIZE,
    merge_size: int = DEFAULT_MERGE_SIZE,
    max_aspect_ratio: float = DEFAULT_MAX_ASPECT_RATIO,
) -> tuple[int, int]:
    """The (width, height) an image of upright size `width x height` is resized to."""
    factor = _check_resize_args(min_pixels, max_pixels, patch_size, merge_size)
    w, h = _positive_size(width, height)
    return _smart_resize(w, h, factor, min_pixels, max_pixels, max_aspect_ratio)


def image_tokens(
    width: int,
    height: int,
    *,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    patch_size: int = DEFAULT_PATCH_SIZE,
    merge_size: int = DEFAULT_MERGE_SIZE,
    max_aspect_ratio: float = DEFAULT_MAX_ASPECT_RATIO,
) -> int:
    """Image pad tokens (without `<|vision_start|>`/`<|vision_end|>`) for an upright size."""
    factor = patch_size * merge_size
    w, h = resized_size(width, height, min_pixels=min_pixels, max_pixels=max_pixels,
                        patch_size=patch_size, merge_size=merge_size, max_aspect_ratio=max_aspect_ratio)
    return (w // factor) * (h // factor)


# ---------------------------------------------------------------------------------------------
# Images, vectorised


def resized_size_np(
    widths,
    heights,
    *,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    patch_size: int = DEFAULT_PATCH_SIZE,
    merge_size: int = DEFAULT_MERGE_SIZE,
    max_aspect_ratio: float = DEFAULT_MAX_ASPECT_RATIO,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`resized_size` over whole columns: returns (w, h, bad) as int64, int64, bool arrays.

    `bad` marks rows the scalar form rejects (missing/NaN/non-positive/fractional size, aspect
    ratio too large); their w and h are 0. Good rows are bit-identical to the scalar form: the
    same float64 operations in the same order (numpy's `rint` rounds half to even like `round`).
    """
    factor = _check_resize_args(min_pixels, max_pixels, patch_size, merge_size)
    wf = _as_float_column(widths)
    hf = _as_float_column(heights)
    if wf.shape != hf.shape:
        raise ValueError(f"widths and heights differ in length: {wf.shape} vs {hf.shape}")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        bad = ~((wf > 0) & (hf > 0) & np.isfinite(wf) & np.isfinite(hf))
        bad |= (wf != np.floor(wf)) | (hf != np.floor(hf))
        wf = np.where(bad, 1.0, wf)
        hf = np.where(bad, 1.0, hf)
        bad |= np.maximum(wf, hf) / np.minimum(wf, hf) > max_aspect_ratio
        w = wf.astype(np.int64)
        h = hf.astype(np.int64)
        h_bar = np.maximum(factor, np.rint(hf / factor).astype(np.int64) * factor)
        w_bar = np.maximum(factor, np.rint(wf / factor).astype(np.int64) * factor)
        area = h_bar * w_bar
        big = area > max_pixels
        small = ~big & (area < min_pixels)
        if big.any():
            hb, wb = hf[big], wf[big]
            beta = np.sqrt((h[big] * w[big]) / max_pixels)
            h_bar[big] = np.maximum(factor, np.floor(hb / beta / factor).astype(np.int64) * factor)
            w_bar[big] = np.maximum(factor, np.floor(wb / beta / factor).astype(np.int64) * factor)
        if small.any():
            hs, ws = hf[small], wf[small]
            beta = np.sqrt(min_pixels / (h[small] * w[small]))
            h_bar[small] = np.ceil(hs * beta / factor).astype(np.int64) * factor
            w_bar[small] = np.ceil(ws * beta / factor).astype(np.int64) * factor
    w_bar[bad] = 0
    h_bar[bad] = 0
    return w_bar, h_bar, bad


def image_tokens_np(
    widths,
    heights,
    *,
    min_pixels: int = DEFAULT_MIN_PIXELS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    patch_size: int = DEFAULT_PATCH_SIZE,
    merge_size: int = DEFAULT_MERGE_SIZE,
    max_aspect_ratio: float = DEFAULT_MAX_ASPECT_RATIO,
) -> tuple[np.ndarray, np.ndarray]:
    """`image_tokens` over whole columns: returns (tokens int64, bad bool); bad rows count 0."""
    factor = patch_size * merge_size
    w, h, bad = resized_size_np(widths, heights, min_pixels=min_pixels, max_pixels=max_pixels,
                                patch_size=patch_size, merge_size=merge_size,
                                max_aspect_ratio=max_aspect_ratio)
    return (w // factor) * (h // factor), bad


def _as_float_column(values) -> np.ndarray:
    """An int/float column (numpy, list, pyarrow with nulls) as float64 with NaN for nulls."""
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        try:  # pyarrow Array / ChunkedArray: nulls become NaN
            import pyarrow as pa

            if isinstance(values, (pa.Array, pa.ChunkedArray)):
                values = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except ImportError:  # pragma: no cover - pyarrow is a dependency
            pass
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.array([np.nan if v is None else v for v in arr.ravel()], dtype=np.float64).reshape(arr.shape)
    return arr.astype(np.float64, copy=False)


# ---------------------------------------------------------------------------------------------
# Video


@dataclass(frozen=True)
class VideoPlan:
    """How one video is sampled and resized, and what it costs."""

    frame_indices: list[int]  # indices into the source frames, one per sampled frame
    width: int  # resized width of every frame
    height: int  # resized height of every frame
    grid_thw: tuple[int, int, int]  # (frames / temporal_patch, h / patch, w / patch) in ViT patches
    tokens: int  # video pad tokens = ceil(frames / temporal_patch) * (h / factor) * (w / factor)
    vit_patches: int  # t * h * w of grid_thw = tokens * merge_size**2
    sample_fps: float  # the fps the frame count was derived from
    source_frames: int  # frames in the source (from metadata, or derived)
    duration: float = 0.0  # seconds of video the frames span (from metadata, or derived)

    @property
    def frames_per_second(self) -> float:
        """Sampled frames per second of video time (what Qwen2.5-VL's temporal RoPE scales by)."""
        return self.n_frames / self.duration if self.duration > 0 else 0.0

    @property
    def n_frames(self) -> int:
        return len(self.frame_indices)


def stable_unit(seed: int, sample_id: str, purpose: str) -> float:
    """A deterministic number in [0, 1) keyed by (seed, sample_id, purpose); never `hash()`."""
    h = xxhash.xxh64_intdigest(f"{seed}\x1f{sample_id}\x1f{purpose}".encode())
    return (h >> 11) / float(1 << 53)


def _finite_positive(name: str, value) -> float | None:
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise MediaTokenError("tokens.bad_video_metadata", f"video {name}={value!r} must be finite and > 0")
    return v


def sample_fps_for(task: str, sample_id: str, seed: int, cfg: TokensConfig) -> float:
    """Temporal tasks use the constant `temporal_fps`; others draw from `fps_range` per sample."""
    v = cfg.video
    if task in v.temporal_tasks:
        return float(v.temporal_fps)
    lo, hi = v.fps_range
    return lo + (hi - lo) * stable_unit(seed, sample_id, "video_fps")


def plan_video(
    *,
    duration: float | None,
    fps: float | None,
    frames: int | None,
    width: int | None,
    height: int | None,
    sample_id: str,
    seed: int,
    task: str,
    cfg: TokensConfig,
) -> VideoPlan:
    """Frames, per-frame size and token cost of one video, from its metadata (report §2.4).

    1. Timing: two of (duration, source fps, source frames) are enough; with the frame count
       alone (a directory of frames), `cfg.video.assumed_source_fps` supplies the fps.
    2. Sample fps: constant `temporal_fps` for `temporal_tasks`, else a seeded draw from
       `fps_range`. Frames = duration * sample fps, clamped to [min_frames, max_frames] and to the
       source frame count, floored to a multiple of `temporal_patch_size` (at least one group;
       a source shorter than that repeats its last frame).
    3. Resolution: per-frame pixels are capped at `token_budget * factor**2 * temporal_patch /
       frames` (and `video.max_pixels`), floored at `video.min_pixels`; smart resize as for images.
    4. Budget: while the tokens exceed `token_budget`, drop frames (one temporal group at a time).
       If even one group is over budget the video is rejected (`tokens.video_budget`).
    """
    v = cfg.video
    tp = cfg.temporal_patch_size
    factor = cfg.patch_size * cfg.merge_size
    w, h = _positive_size(width, height)
    duration_s = _finite_positive("duration", duration)
    src_fps = _finite_positive("fps", fps)
    n_src = _finite_positive("frames", frames)
    if n_src is not None:
        if n_src != int(n_src):
            raise MediaTokenError("tokens.bad_video_metadata", f"video frames={frames!r} is not whole")
        n_src = int(n_src)
    if duration_s is None:
        if n_src is None:
            raise MediaTokenError("tokens.bad_video_metadata", "video has neither duration nor frames")
        if src_fps is None:
            if v.assumed_source_fps is None:
                raise MediaTokenError("tokens.bad_video_metadata",
                                      "video has frames but neither duration nor fps "
                                      "(set tokens.video.assumed_source_fps to accept it)")
            src_fps = float(v.assumed_source_fps)
        duration_s = n_src / src_fps
    if n_src is None:
        if src_fps is None:
            raise MediaTokenError("tokens.bad_video_metadata", "video has a duration but neither fps nor frames")
        n_src = max(1, round(duration_s * src_fps))
    if max(w, h) / min(w, h) > cfg.max_aspect_ratio:
        raise AspectRatioError(w, h, cfg.max_aspect_ratio)

    sample_fps = sample_fps_for(task, sample_id, seed, cfg)
    min_frames = math.ceil(v.min_frames / tp) * tp
    max_frames = max(tp, (v.max_frames // tp) * tp)
    n = min(max(duration_s * sample_fps, min_frames), max_frames, n_src)
    n_frames = max(tp, math.floor(n / tp) * tp)

    budget = v.token_budget
    unit = factor * factor
    while True:
        groups = n_frames // tp
        cap = min(v.max_pixels, budget * unit // groups)
        fw, fh = _smart_resize(w, h, factor, v.min_pixels, max(v.min_pixels, cap), cfg.max_aspect_ratio)
        per_group = (fw // factor) * (fh // factor)
        tokens = groups * per_group
        if tokens <= budget:
            break
        if groups == 1:
            raise MediaTokenError("tokens.video_budget",
                                  f"one temporal group of {fw}x{fh} costs {per_group} tokens, over "
                                  f"video.token_budget={budget}")
        # Jump to the largest frame count this resolution fits, then re-plan (resolution may rise).
        n_frames = min(n_frames - tp, max(1, budget // per_group) * tp)

    indices = np.rint(np.linspace(0, n_src - 1, n_frames)).astype(np.int64).tolist()
    grid = (n_frames // tp, fh // cfg.patch_size, fw // cfg.patch_size)
    return VideoPlan(
        frame_indices=indices,
        width=fw,
        height=fh,
        grid_thw=grid,
        tokens=tokens,
        vit_patches=grid[0] * grid[1] * grid[2],
        sample_fps=sample_fps,
        source_frames=n_src,
        duration=duration_s,
    )
