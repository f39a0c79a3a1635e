"""`vlpack plan`: which stages a run would reuse or re-run, and why; and, when the cached rows
after the token stage exist, what the recipe would produce — without Ray, without writing."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jobs.commands.run import _fail, load_or_fail


def stage_decisions(cfg, inputs, cache) -> list[dict]:
    """Per stage: "reused", "re-run" or "not needed", and why (the fields that changed)."""
    from jobs.file_stages import file_groups, file_keys, reusable
    from jobs.scorer_stage import scorer_plan
    from jobs.stage_keys import STAGES, changed_fields, stage_keys

    keys_of_files = file_keys(cfg, inputs.files)
    keys = stage_keys(cfg, keys_of_files, scorers_on=bool(scorer_plan(cfg)))
    chain = [s for s in ("score", "dedup", "tokens") if s in keys]
    start = next((s for s in reversed(chain) if cache.info(s, keys[s].key) is not None), None)
    out = []
    missing = [i for g in file_groups(cfg, inputs.files, keys_of_files) if not reusable(cache, g) for i in g.members]
    if start is not None:
        out.append({"stage": "files", "action": "not needed", "why": f"the cached {start} result covers every file"})
    elif not missing:
        out.append({"stage": "files", "action": "reused", "why": f"all {len(keys_of_files)} files cached"})
    else:
        old = cache.latest_file_reads()
        why = changed_fields(old, STAGES["files"].reads(cfg)) if old else []
        out.append({"stage": "files", "action": "re-run",
                    "why": f"{len(missing)} of {len(keys_of_files)} files: "
                           + ("; ".join(why) if why else "new or changed source files")})
    rerun = start is None
    for stage in chain:
        k = keys[stage]
        if start is not None and chain.index(stage) < chain.index(start):
            out.append({"stage": stage, "action": "not needed", "why": f"the cached {start} result follows it"})
        elif stage == start:
            out.append({"stage": stage, "action": "reused", "why": f"cached as {k.key}"})
        else:
            old = cache.latest(stage)
            why = changed_fields(old["reads"], k.reads) if old and old.get("reads") else []
            if rerun and out[-1]["action"] == "re-run" and not why:
                reason = f"its input changes ({out[-1]['stage']} re-runs)"
            else:
                reason = "; ".join(why) if why else ("no cached result" if old is None else "its input changed")
            out.append({"stage": stage, "action": "re-run", "why": reason})
            rerun = True
    out.append({"stage": "mix", "action": "re-run", "why": "always (cheap): weights are applied to the cached rows"})
    out.append({"stage": "plan", "action": "re-run", "why": "pack, assemble steps, write shards and indexes"})
    return out


def preview(cfg, cache) -> dict | None:
    """What the recipe would produce from the cached token-stage rows: the mix, then the plan,
    in this process; None when that cache entry does not exist."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    from jobs import stages
    from jobs.file_stages import file_keys
    from jobs.pipeline import JobInputs
    from jobs.planning import INDEX_COLUMNS, plan_in_process
    from jobs.scorer_stage import scorer_plan
    from jobs.stage_keys import stage_keys
    from packer.packing import lower_bound

    inputs = JobInputs.of(cfg)
    keys = stage_keys(cfg, file_keys(cfg, inputs.files), scorers_on=bool(scorer_plan(cfg)))
    info = cache.info("tokens", keys["tokens"].key)
    if info is None:
        return None
    folder = cache.entry_dir("tokens", keys["tokens"].key)
    table = pads.dataset([str(folder / n) for n in sorted(info["files"])], format="parquet").to_table(
        columns=[c for c in INDEX_COLUMNS])
    table, _ = stages.mix_stage(cfg)(table)
    parts = plan_in_process(cfg, table)
    ledger = pa.concat_tables([p.ledger for p in parts])
    packs = pa.concat_tables([p.packs for p in parts])
    packed = ledger.filter(pc.equal(ledger.column("status"), "packed"))
    lb = lower_bound(packed.column("total_tokens").to_numpy(), packed.column("vit_patches").to_numpy(), cfg.pack,
                     images=packed.column("n_images").to_numpy())  # of what is packed, as the report's

    def shares(col: str) -> dict:
        names = packed.column(col).to_pylist()
        tokens = packed.column("total_tokens").to_numpy()
        n, t = len(names), float(tokens.sum()) or 1.0
        out = {}
        for name in sorted(set(names)):
            mask = np.array([x == name for x in names])
            out[name] = {"samples": round(float(mask.sum()) / max(n, 1), 4), "tokens": round(float(tokens[mask].sum()) / t, 4)}
        return out

    step = packs.column("step").to_numpy()
    rank = packs.column("rank").to_numpy()
    cost = packs.column("cost").to_numpy()
    worst = mean = 1.0
    if len(step):
        grid = np.zeros((int(step.max()) + 1, cfg.pack.dp_size))
        np.add.at(grid, (step, rank), cost)
        means = grid.mean(axis=1)
        ratio = np.where(means > 0, grid.max(axis=1) / np.where(means > 0, means, 1), 1.0)
        worst, mean = float(ratio.max()), float(ratio.mean())
    real = int(pc.sum(pc.invert(packs.column("is_filler"))).as_py() or 0)
    return {"samples_in": int(pc.sum(pc.equal(table.column("copy"), 0)).as_py() or 0), "packed": packed.num_rows,
            "packs": real, "steps": int(step.max()) + 1 if len(step) else 0, "lower_bound": int(lb),
            "bins_over_lower_bound": round(real / lb, 5) if lb else None,
            "cost_balance_max_over_mean": {"mean_step": round(mean, 4), "worst_step": round(worst, 4)},
            "share_by_source": shares("source"), "share_by_task": shares("task")}


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        job: Path = typer.Argument(..., help="job.yaml", metavar="JOB"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
    ) -> None:
        """Say which stages a run would reuse or re-run and why, and preview the packs the recipe
        would make from cached rows: nothing is written, Ray is not started."""
        from jobs.pipeline import JobError, output_state, preflight, stage_cache
        from jobs.readers import SourceFileError
        cfg = load_or_fail(job)
        try:
            inputs = preflight(cfg)
        except (JobError, SourceFileError) as err:
            _fail(str(err), 1)
        try:
            state = output_state(cfg, inputs)
        except JobError as err:
            _fail(str(err), 1)
        output = {"dir": str(cfg.output.dir), "state": state.text, "run_refused": state.refused,
                  "run_does_nothing": state.complete}
        cache = stage_cache(cfg, Path(cfg.output.dir))
        decisions = stage_decisions(cfg, inputs, cache)
        if state.complete:  # the run returns the committed output as it is
            decisions = [{**d, "action": "reused", "why": "the output is committed for this config and these inputs"}
                         for d in decisions]
        result = {"output": output, "stages": decisions, "preview": preview(cfg, cache)}
        if as_json:
            typer.echo(json.dumps(result, indent=1))
            if state.refused:
                raise typer.Exit(1)
            return
        console = Console()
        console.print(escape(f"output {cfg.output.dir}: {state.text}"), highlight=False)
        if state.refused:
            _fail("a run would refuse this output directory: nothing below would run", 1)
        t = Table(title=f"stages of {job}", title_justify="left")
        for c in ("stage", "action", "why"):
            t.add_column(c, overflow="fold")
        for d in decisions:
            t.add_row(d["stage"], d["action"], escape(d["why"]))
        console.print(t)
        p = result["preview"]
        if p is None:
            console.print("no cached token-stage rows for this recipe yet: run it once to preview changes of "
                          "weights or packing", highlight=False)
            return
        console.print(f"preview: {p['packed']:,} of {p['samples_in']:,} samples packed into {p['packs']:,} packs "
                      f"in {p['steps']:,} steps; bins / lower bound {p['bins_over_lower_bound']}; cost max/mean over "
                      f"ranks: mean step {p['cost_balance_max_over_mean']['mean_step']}, worst step "
                      f"{p['cost_balance_max_over_mean']['worst_step']}", highlight=False)
        s = Table(title="share of packed samples and tokens", title_justify="left")
        for c in ("source or task", "samples", "tokens"):
            s.add_column(c)
        for group in ("share_by_source", "share_by_task"):
            for name, v in p[group].items():
                s.add_row(escape(name), f"{v['samples']:.1%}", f"{v['tokens']:.1%}")
        console.print(s)
