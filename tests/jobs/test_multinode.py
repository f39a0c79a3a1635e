"""A real multi-node run (issue 15): three raylets on this machine (`ray.cluster_utils.Cluster`),
each a node with its own object store and resources. The pack job on it writes output
byte-identical to the embedded single-node run, every heavy stage ran on more than one node, and
`vlpack run --address` against the same cluster does the same."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.cluster]
ROOT = Path(__file__).resolve().parents[2]

CLUSTER_SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys
    sys.path.insert(0, {root!r})
    import ray
    from ray.cluster_utils import Cluster

    mem = 150 * 1024 * 1024
    cluster = Cluster(initialize_head=True, head_node_args={{"num_cpus": 1, "object_store_memory": mem}})
    for _ in range(2):
        cluster.add_node(num_cpus=1, object_store_memory=mem)
    cluster.wait_for_nodes()
    env = {{"PYTHONPATH": {root!r}}}
    ray.init(address=cluster.address, runtime_env={{"env_vars": env}}, log_to_driver=False)
    nodes = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"])
    from jobs.pipeline import run_job
    from schemas.config import load_job_config
    result = run_job(load_job_config({job_a!r}))
    ray.shutdown()
    cli = subprocess.run([sys.executable, "-m", "jobs.cli", "run", {job_b!r}, "--address", cluster.address,
                          "--no-progress"], capture_output=True, text=True, cwd={root!r})
    cluster.shutdown()
    print(json.dumps({{"nodes": nodes, "stats_nodes": result.stats["nodes"], "cli_rc": cli.returncode,
                      "cli_err": cli.stderr[-3000:]}}))
""")


def _job(corpus: Path, out: Path, tmp: Path) -> Path:
    data = yaml.safe_load(corpus.read_text())
    for s in data["sources"]:
        s["path"] = str(corpus.parent / s["path"])
        if "root" in s:
            s["root"] = str(corpus.parent / s["root"])
    data["output"] = {"dir": str(out), "overwrite": True}
    data["pack"]["plan_group_samples"] = 70  # several planning groups, so planning can spread
    data["pack"]["packs_per_shard"] = 2  # several shards per rank, so the write can spread
    data["ray"] = {"batch_size": 16}  # many batches, so the row stages after dedup can spread (not fingerprinted)
    job = tmp / f"job-{out.name}.yaml"
    job.write_text(yaml.safe_dump(data))
    return job


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {"report", ".vlpack"} & set(p.relative_to(root).parts) and p.name != "job.yaml"}


def test_three_nodes_give_the_single_node_output_and_every_heavy_stage_spreads(ray_local, demo_corpus, tmp_path):
    from jobs.pipeline import run_job
    from schemas.config import load_job_config

    single = run_job(load_job_config(_job(demo_corpus, tmp_path / "single", tmp_path)))
    script = CLUSTER_SCRIPT.format(root=str(ROOT), job_a=str(_job(demo_corpus, tmp_path / "multi", tmp_path)),
                                   job_b=str(_job(demo_corpus, tmp_path / "cli", tmp_path)))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=1800, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report["nodes"]) == 3
    assert report["cli_rc"] == 0, report["cli_err"]
    want = _digest(single.out_dir)
    for name in ("multi", "cli"):
        got = _digest(tmp_path / name)
        assert [k for k in want.keys() | got.keys() if want.get(k) != got.get(k)] == [], name
    spread = {stage: len(nodes) for stage, nodes in report["stats_nodes"].items()}
    for stage in ("read", "probe", "filter", "grounding", "tokens", "mix", "plan", "index", "write"):
        assert spread.get(stage, 0) >= 2, (stage, report["stats_nodes"])
    print("nodes per stage:", json.dumps(report["stats_nodes"], indent=1))
