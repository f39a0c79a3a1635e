"""A real vlpack demo output sized for tiny models: the pack job (jobs.pipeline.run_job on local Ray)
over a small demo corpus, with a 1024-token context, ViT buckets and small images, so that every
pack's logits over the real ~152k-token Qwen vocabulary stay cheap on a CPU.

`python tests/trainer_bridge/demo_packs.py DIR` writes the same output outside pytest (bench, README).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

DEMO_SAMPLES = 90
DEMO_SEED = 3
PACK = {
    "context_length": 1024,
    "dp_size": 2,
    "micro_batch": 1,
    "grad_accum": 2,
    "packs_per_shard": 4,
    "remainder": "pad",  # keep every sample (the last step is completed with filler packs)
    "max_vit_patches": 4096,
    "patch_buckets": [1024, 2048, 3072],  # ViT buckets, so packs are padded to a planned ViT shape
}
TOKENS = {
    "max_pixels": 256 * 28 * 28,  # at most 256 tokens per image
    "video": {"min_pixels": 4 * 28 * 28, "max_pixels": 16 * 28 * 28, "token_budget": 256},
}


def make_demo_output(root: Path, *, samples: int = DEMO_SAMPLES, seed: int = DEMO_SEED, **pack) -> Path:
    """Run the small demo job under ``root`` (``pack`` overrides PACK); returns the output directory."""
    from jobs.demo_data import make_demo_dataset
    from jobs.pipeline import run_job
    from schemas.config import load_job_config

    job_path = make_demo_dataset(root, samples=samples, seed=seed)
    job = yaml.safe_load(job_path.read_text())
    job["pack"] = {**job.get("pack", {}), **PACK, **pack}
    job["tokens"] = {**job.get("tokens", {}), **TOKENS}
    job["output"] = {"dir": str(root / "out"), "overwrite": True}
    job_path.write_text(yaml.safe_dump(job, sort_keys=False))
    return run_job(load_job_config(job_path)).out_dir


if __name__ == "__main__":
    print(make_demo_output(Path(sys.argv[1])))
