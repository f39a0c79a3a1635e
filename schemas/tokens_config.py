"""Config for media probing and token counting (images, video, text)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.config_base import ConfigSection


class ProbeConfig(ConfigSection):
    animated: Literal["first_frame", "reject"] = "first_frame"
    # Our own pixel limit, checked from the header before Pillow's decompression-bomb check.
    max_header_pixels: int = Field(default=100_000_000, ge=1, le=2**40)
    # Where a header was read and it disagrees with the metadata (size, format, bytes, frames),
    # the header's value is used: token counts and image rules see the file as it is. The row
    # records `probe.metadata_size_mismatch` in its `repairs` when the size was corrected.
    header_wins: bool = True
    # Open every image and read its header even where the metadata gives its size, so that a
    # missing, empty, unreadable, truncated or bomb file is caught here (`invalid`, `probe.*`) and
    # never reaches a shard. Off: only images without a size are read (metadata is trusted).
    check_files: bool = True
    # Read the header of images that have a size in their metadata even with `check_files` off.
    verify_metadata: bool = False
    # Bytes one image file may take (`probe.too_many_bytes`): a 1000x1000 PNG carrying a 50 MB
    # private chunk would otherwise be copied whole into a shard.
    max_image_bytes: int = Field(default=64 << 20, ge=1024, le=1 << 40)
    # Bytes per upright pixel beyond a fixed 1 MiB allowance for headers and metadata
    # (`probe.too_many_bytes`); 16 admits 16-bit RGBA stored raw.
    max_bytes_per_pixel: float = Field(default=16.0, gt=0.0, le=1_000_000.0)
    # Cheap end-of-file checks (JPEG EOI marker, PNG chunk walk to IEND, RIFF size) that catch
    # truncated downloads without decoding; a failure is `probe.truncated`.
    check_tail: bool = True
    # Pillow formats a header may be read as; anything else is `probe.unreadable`.
    formats: tuple[str, ...] = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF")


class VideoConfig(ConfigSection):
    fps_range: tuple[float, float] = (0.5, 2.0)  # untimed tasks draw an fps from here, seeded by sample_id
    temporal_fps: float = Field(default=1.0, gt=0, le=60)
    temporal_tasks: tuple[str, ...] = ("video_temporal", "temporal_grounding")
    min_frames: int = Field(default=4, ge=2, le=100_000)
    max_frames: int = Field(default=768, ge=2, le=100_000)
    min_pixels: int = Field(default=128 * 28 * 28, ge=28 * 28)
    max_pixels: int = Field(default=768 * 28 * 28, ge=28 * 28)
    token_budget: int = Field(default=24576, ge=4, le=10_000_000)
    # Source fps assumed when the metadata has a frame count but neither fps nor duration (a
    # directory of extracted frames); None rejects such videos (`tokens.bad_video_metadata`).
    assumed_source_fps: float | None = Field(default=2.0, gt=0, le=240)

    @model_validator(mode="after")
    def _check(self) -> VideoConfig:
        lo, hi = self.fps_range
        if not (0 < lo <= hi <= 60):
            raise ValueError(f"fps_range must satisfy 0 < low <= high <= 60, got {self.fps_range}")
        if self.min_frames > self.max_frames:
            raise ValueError(f"min_frames ({self.min_frames}) must be <= max_frames ({self.max_frames})")
        if self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels ({self.min_pixels}) must be <= max_pixels ({self.max_pixels})")
        return self


class TokensConfig(ConfigSection):
    tokenizer: str = "qwen"  # "qwen" = bundled Qwen BPE; otherwise a path to an HF tokenizer.json
    chat_template: Literal["qwen2-vl"] = "qwen2-vl"
    system_prompt: str | None = None
    prompt_pool: Literal["caption-default"] | tuple[str, ...] = "caption-default"
    min_pixels: int = Field(default=56 * 56, ge=28 * 28, le=2**31 - 1)
    max_pixels: int = Field(default=1344 * 1344, ge=28 * 28, le=2**31 - 1)
    patch_size: int = Field(default=14, ge=1, le=64)
    merge_size: int = Field(default=2, ge=1, le=8)
    temporal_patch_size: int = Field(default=2, ge=1, le=8)
    max_aspect_ratio: float = Field(default=200.0, gt=1, le=10_000)
    video: VideoConfig = VideoConfig()

    @model_validator(mode="after")
    def _check(self) -> TokensConfig:
        if self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels ({self.min_pixels}) must be <= max_pixels ({self.max_pixels})")
        return self
