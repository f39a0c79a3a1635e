"""The model-based scorers as a Ray Data actor-pool stage (STYLE.md 12: a stage that holds a model is
an actor; NeMo Curator's Ray Data stage adapter is the model).

`ScorerActor` loads the enabled scorers once in `__init__` and scores whole batches in `__call__`
through `stages.run_stage`, so the counters contract (the hidden `_counters` column) holds as for
the task stages. `ActorStage` says how Ray runs it: an `ActorPoolStrategy` of `concurrency`
actors, each asking for `num_cpus` CPUs and, when configured, `num_gpus` GPUs or a custom `NPU`
resource. It runs after the per-file stages (`jobs.file_stages`: read → probe → filter →
grounding) and before dedup, so only rows the rules kept are scored and dedup can prefer the copy
with the lower perplexity. Batches are whole input blocks (one source file's rows), cut into
micro-batches inside the scorer, so the rows scored together do not depend on scheduling: scores
are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from jobs import stages
from schemas.config import JobConfig

STAGE_NAME = "score"


class ScorerActor:
    """One actor: the scorers of `cfg.filters.scorers`, loaded once."""

    def __init__(self, cfg: JobConfig):
        from filters.scorers.scoring import LoadedScorers

        scorers_cfg = cfg.filters.scorers
        threads = max(1, int(scorers_cfg.num_cpus))
        if scorers_cfg.clip.enabled or scorers_cfg.lm.enabled:
            import torch

            torch.set_num_threads(threads)  # an actor uses the CPUs it asked for, no more
        self.scorers = LoadedScorers.load(scorers_cfg, threads)
        self.loaded = 1  # reported with the first batch: the sum over a job counts model loads

    def _score(self, batch: pa.Table):
        from filters.scorers.scoring import score_table

        out, counts = score_table(batch, self.scorers)
        counts["score.models_loaded"], self.loaded = self.loaded, 0
        return out, counts

    def __call__(self, batch: pa.Table) -> pa.Table:
        return stages.run_stage(batch, STAGE_NAME, self._score)


@dataclass(frozen=True)
class ActorStage:
    """A row-local stage run by a pool of actors of `cls` instead of stateless tasks."""

    name: str
    cls: type
    constructor_kwargs: dict = field(default_factory=dict)
    concurrency: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    resources: dict = field(default_factory=dict)

    def apply(self, ds, batch_size: int | None = None):
        """`ds.map_batches` over this stage's actor pool."""
        import ray

        extra = {"resources": self.resources} if self.resources else {}
        return ds.map_batches(self.cls, fn_constructor_kwargs=self.constructor_kwargs,
                              compute=ray.data.ActorPoolStrategy(size=self.concurrency),
                              num_cpus=self.num_cpus, num_gpus=self.num_gpus or None,
                              batch_format="pyarrow", batch_size=batch_size, zero_copy_batch=False, **extra)


def scorer_plan(cfg: JobConfig) -> list[tuple[str, ActorStage]]:
    """The stages the pipeline runs after the per-file stages (read → probe → filter → grounding)
    and before dedup: the scorers' actor stage when one is enabled, else none."""
    stage = scorer_stage(cfg)
    return [(stage.name, stage)] if stage else []


def scorer_stage(cfg: JobConfig) -> ActorStage | None:
    """The actor stage of the enabled scorers, or None when none is enabled."""
    sc = cfg.filters.scorers
    if not (cfg.filters.enabled and sc.any_enabled):
        return None
    gpus = sc.accelerators_per_actor if sc.accelerator == "gpu" else 0.0
    resources = {"NPU": sc.accelerators_per_actor} if sc.accelerator == "npu" else {}
    return ActorStage(STAGE_NAME, ScorerActor, {"cfg": cfg}, sc.concurrency, sc.num_cpus, gpus, resources)
