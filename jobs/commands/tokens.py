"""`vlpack tokens`: the vision token cost of one image or video, from its size alone."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

_DEFAULTS = None


def _defaults():
    global _DEFAULTS
    if _DEFAULTS is None:
        from schemas.tokens_config import TokensConfig

        _DEFAULTS = TokensConfig()
    return _DEFAULTS


def register(app: typer.Typer) -> None:
    d = _defaults()

    @app.command("tokens")
    def tokens(
        width: int = typer.Option(..., "--width", "-W", help="Upright width in pixels (after EXIF orientation)."),
        height: int = typer.Option(..., "--height", "-H", help="Upright height in pixels."),
        min_pixels: int = typer.Option(d.min_pixels, help="Image smart-resize lower bound."),
        max_pixels: int = typer.Option(d.max_pixels, help="Image smart-resize upper bound."),
        patch_size: int = typer.Option(d.patch_size, help="ViT patch size."),
        merge_size: int = typer.Option(d.merge_size, help="Spatial merge size (factor = patch x merge)."),
        max_aspect_ratio: float = typer.Option(d.max_aspect_ratio, help="Reject above this aspect ratio."),
        video: bool = typer.Option(False, "--video", help="Plan a video (report §2.4) instead of an image."),
        duration: float | None = typer.Option(None, help="Video duration in seconds."),
        fps: float | None = typer.Option(None, help="Video source fps."),
        frames: int | None = typer.Option(None, help="Video source frame count."),
        task: str = typer.Option("video", help="Task (temporal tasks sample at a constant fps)."),
        sample_id: str = typer.Option("cli", help="Sample id (seeds the random fps of untimed tasks)."),
        seed: int = typer.Option(0, help="Job seed."),
        token_budget: int | None = typer.Option(None, help="Video token budget (default from config)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Vision tokens of one image (smart resize) or, with --video, one video (frame budget)."""
        from pydantic import ValidationError

        from packer.tokens import MediaTokenError, plan_video, resized_size
        from schemas.tokens_config import TokensConfig

        console = Console()
        try:
            video_cfg = d.video if token_budget is None else d.video.model_copy(update={"token_budget": token_budget})
            cfg = TokensConfig.model_validate({
                **d.model_dump(), "min_pixels": min_pixels, "max_pixels": max_pixels, "patch_size": patch_size,
                "merge_size": merge_size, "max_aspect_ratio": max_aspect_ratio,
                "video": video_cfg.model_dump(),
            })
        except ValidationError as err:
            from jobs.commands.run import _fail
            from schemas.config import describe_validation_error

            # one line per bad option, named as it is typed: `--patch-size = 0: ...; allowed: ...`
            lines = describe_validation_error(err, model=TokensConfig).splitlines()
            _fail("; ".join("--" + line.split(" = ", 1)[0].rsplit(".", 1)[-1].replace("_", "-") + " = "
                            + line.split(" = ", 1)[1] if " = " in line else line for line in lines))

        factor = cfg.patch_size * cfg.merge_size
        try:
            if video:
                p = plan_video(duration=duration, fps=fps, frames=frames, width=width, height=height,
                               sample_id=sample_id, seed=seed, task=task, cfg=cfg)
                result = {
                    "kind": "video", "width": width, "height": height, "duration": duration, "fps": fps,
                    "frames": frames, "task": task, "sample_fps": round(p.sample_fps, 6),
                    "sampled_frames": p.n_frames, "resized": [p.width, p.height], "grid_thw": list(p.grid_thw),
                    "pad_tokens": p.tokens, "vision_tokens": p.tokens + 2, "vit_patches": p.vit_patches,
                    "token_budget": cfg.video.token_budget,
                }
            else:
                w, h = resized_size(width, height, min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels,
                                    patch_size=cfg.patch_size, merge_size=cfg.merge_size,
                                    max_aspect_ratio=cfg.max_aspect_ratio)
                n = (w // factor) * (h // factor)
                result = {
                    "kind": "image", "width": width, "height": height, "resized": [w, h],
                    "grid_thw": [1, h // cfg.patch_size, w // cfg.patch_size], "pad_tokens": n,
                    "vision_tokens": n + 2, "vit_patches": n * cfg.merge_size**2,
                }
        except MediaTokenError as err:
            if as_json:
                typer.echo(json.dumps({"kind": "video" if video else "image", "reason": err.reason,
                                       "error": str(err)}))
            else:
                Console(stderr=True).print(f"[bold red]rejected:[/] {err}", highlight=False)
            raise typer.Exit(1) from None

        if as_json:
            typer.echo(json.dumps(result))
            return
        table = Table(title=f"vlpack tokens ({result['kind']})", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column(justify="right")
        for key, value in result.items():
            if key == "kind" or value is None:
                continue
            table.add_row(key.replace("_", " "), " x ".join(map(str, value)) if isinstance(value, list) else
                          f"{value:,}" if isinstance(value, int) else str(value))
        console.print(table)
