"""Trusting an output (issue 14): input fingerprints, per-file reuse, one writer per output, early
one-line errors. Real local Ray, real files, real processes for the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_inputs import CAPTION, jpeg

from schemas.config import parse_job_config
from schemas.manifest import MANIFEST_NAME, Manifest, load_index

ROOT = Path(__file__).resolve().parents[2]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _text_rows(prefix: str, n: int, start: int = 0) -> list[dict]:
    return [{"id": f"{prefix}{i}", "task": "text",
             "text": f"Sample {prefix} number {i} tells of a heron standing in shallow water at dawn."}
            for i in range(start, start + n)]


def _corpus(tmp: Path, n_files: int = 3) -> Path:
    data = tmp / "data"
    data.mkdir()
    for k in range(n_files):
        _write_jsonl(data / f"part-{k}.jsonl", _text_rows(f"f{k}-", 6))
    return data


def _cfg(data: Path, out: Path, **extra):
    raw = {"sources": [{"name": "t", "format": "jsonl", "path": str(data), "task": "text"}],
           "pack": {"context_length": 2048, "dp_size": 1, "micro_batch": 1, "grad_accum": 1},
           "dedup": {"enabled": False}, "output": {"dir": str(out)}}
    raw.update(extra)
    return parse_job_config(raw)


def _ledger_rows(out: Path) -> int:
    return load_index(out, "ledger").num_rows


# ---- input fingerprint --------------------------------------------------------------------------


def test_appended_rows_are_seen_and_only_the_changed_file_is_read_again(ray_local, tmp_path, monkeypatch):
    from jobs import file_stages
    from jobs.pipeline import run_job

    monkeypatch.setattr(file_stages, "GROUP_BYTES", 1)  # every file a group of its own (groups: test_file_groups)
    data = _corpus(tmp_path)
    out = tmp_path / "out"
    first = run_job(_cfg(data, out))
    assert first.timings["files_computed"] == 3 and _ledger_rows(out) == 18
    with (data / "part-1.jsonl").open("a") as fh:
        fh.write(json.dumps(_text_rows("f1-", 2, start=6)[0]) + "\n")
    second = run_job(_cfg(data, out))
    assert not second.already_complete
    assert (second.timings["files_computed"], second.timings["files_reused"]) == (1, 2)
    assert _ledger_rows(out) == 19
    m = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    assert m.input_fingerprint != first.manifest.input_fingerprint
    assert m.config_fingerprint == first.manifest.config_fingerprint and m.n_input_files == 3
    third = run_job(_cfg(data, out))
    assert third.already_complete
    forced = run_job(_cfg(data, out), force=True)
    assert not forced.already_complete and forced.timings["files_computed"] == 3
    assert (out / MANIFEST_NAME).read_bytes() == (out / MANIFEST_NAME).read_bytes()


def test_content_fingerprints_see_a_rewrite_that_kept_the_old_mtime(tmp_path):
    from jobs.inputs import input_files, input_fingerprint

    data = _corpus(tmp_path, n_files=1)
    path = data / "part-0.jsonl"
    st = path.stat()
    stat_cfg = _cfg(data, tmp_path / "o")
    content_cfg = _cfg(data, tmp_path / "o", sources=[{"name": "t", "format": "jsonl", "path": str(data),
                                                       "task": "text", "fingerprint": "content"}])
    before = input_fingerprint(input_files(stat_cfg)), input_fingerprint(input_files(content_cfg))
    text = path.read_text().replace("heron", "egret")  # same size, other bytes
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = input_fingerprint(input_files(stat_cfg)), input_fingerprint(input_files(content_cfg))
    assert before[0] == after[0]  # stat cannot see it (documented) ...
    assert before[1] != after[1]  # ... content does
    assert content_cfg.fingerprint() == stat_cfg.fingerprint()  # how changes are noticed is not what is made


def test_a_damaged_committed_output_is_rebuilt_not_reported_complete(ray_local, tmp_path):
    from jobs.pipeline import run_job

    data = _corpus(tmp_path)
    out = tmp_path / "out"
    run_job(_cfg(data, out))
    m = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    shard = out / m.shards[0].path
    good = shard.read_bytes()
    mid = len(good) // 2
    shard.write_bytes(good[:mid] + bytes(b ^ 0xFF for b in good[mid:mid + 64]) + good[mid + 64:])  # same size
    again = run_job(_cfg(data, out))
    assert not again.already_complete
    assert shard.read_bytes() == good


# ---- one writer per output ------------------------------------------------------------------------


def test_a_second_run_is_refused_before_ray_starts_naming_the_holder(tmp_path):
    from jobs.output_lock import OutputLock, lock_holder

    data = _corpus(tmp_path)
    out = tmp_path / "out"
    job = tmp_path / "job.yaml"
    job.write_text(f"sources: [{{name: t, format: jsonl, path: {data}, task: text}}]\noutput: {{dir: {out}}}\n")
    with OutputLock(out):
        assert f"pid {os.getpid()}" in lock_holder(out)
        proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(job), "--no-progress"], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines[0].startswith("error:") and f"is being written by pid {os.getpid()}" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "Ray" not in proc.stderr  # refused before Ray started
    assert lock_holder(out) is None


def test_a_run_refused_while_the_holder_is_still_writing_its_name_waits_for_the_name(tmp_path):
    """The holder takes the lock, then writes who it is: a run refused between the two names it anyway."""
    import fcntl
    import threading

    from jobs.output_lock import OutputLock, OutputLocked, lock_holder

    out = tmp_path / "out"
    path = out / ".vlpack" / "lock"
    path.parent.mkdir(parents=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held, and the file still empty
    late = threading.Timer(0.3, lambda: os.pwrite(fd, json.dumps({"pid": 4242, "host": "h"}).encode(), 0))
    late.start()
    try:
        with pytest.raises(OutputLocked, match="is being written by pid 4242 on h"):
            OutputLock(out).acquire()
        assert "pid 4242" in lock_holder(out)
    finally:
        late.join()
        os.close(fd)
    assert lock_holder(out) is None


def test_a_holder_that_never_names_itself_is_reported_unknown_after_a_bounded_wait(tmp_path, monkeypatch):
    import fcntl

    from jobs import output_lock

    monkeypatch.setattr(output_lock, "HOLDER_NAME_WAIT_S", 0.1)
    out = tmp_path / "out"
    path = out / ".vlpack" / "lock"
    path.parent.mkdir(parents=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(output_lock.OutputLocked, match=r"another vlpack run \(holder unknown\)"):
            output_lock.OutputLock(out).acquire()
    finally:
        os.close(fd)


def test_only_temporary_files_of_writers_that_are_gone_are_swept(tmp_path):
    import socket

    from jobs.output_lock import sweep_temp_files
    from packer.shards import temp_owner, temp_path

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    shards = tmp_path / "shards"
    shards.mkdir()
    files = {name: shards / f".shard-{name}.tar.tmp-{who}-{pid}" for name, who, pid in
             [("live", host, live.pid), ("dead", host, dead.pid), ("remote", "other-host", dead.pid)]}
    for f in files.values():
        f.write_bytes(b"x")
    try:
        assert temp_owner(temp_path(shards / "a.tar").name) == (host, os.getpid())
        removed = sweep_temp_files(tmp_path, all_writers_done=False)
        assert removed == [files["dead"]]
        assert files["live"].exists() and files["remote"].exists()
        sweep_temp_files(tmp_path, all_writers_done=True)
        assert not any(f.exists() for f in files.values())
    finally:
        live.kill()


# ---- tasks are a closed set ---------------------------------------------------------------------


def test_a_misspelt_task_is_a_config_error_with_a_suggestion():
    from schemas.config import ConfigError

    with pytest.raises(ConfigError, match=r"sources\[web\]\.task = 'captoin': unknown task; did you mean 'caption'\?"):
        parse_job_config({"sources": [{"name": "web", "format": "wds", "path": "x", "task": "captoin"}]})
    with pytest.raises(ConfigError, match=r"mix\.task_weights\.grouding .*did you mean 'grounding'"):
        parse_job_config({"sources": [{"name": "web", "format": "wds", "path": "x"}],
                          "mix": {"task_weights": {"grouding": 2.0}}})


def test_a_declared_task_gets_the_filters_it_asks_for_and_an_undeclared_one_in_a_row_is_invalid(tmp_path):
    from hostile_inputs import run_rows

    spam = "click here http://example.com buy now"
    data = _write_jsonl(tmp_path / "d.jsonl", [
        {"id": "spam", "task": "web_caption", "image": "a.jpg", "caption": spam},
        {"id": "typo", "task": "captoin", "image": "a.jpg", "caption": CAPTION},
        {"id": "good", "task": "web_caption", "image": "a.jpg", "caption": CAPTION},
    ])
    (tmp_path / "a.jpg").write_bytes(jpeg(320, 240))
    cfg = _cfg(data, tmp_path / "o", tasks={"web_caption": {"filters": True, "dedup": True}},
               sources=[{"name": "t", "format": "jsonl", "path": str(data), "task": "web_caption"}])
    assert "web_caption" in cfg.filters.tasks and "web_caption" in cfg.dedup.tasks
    fates = {r["sample_id"]: (r["status"], r["reason"]) for r in run_rows(cfg).to_pylist()}
    assert fates == {"t/spam": ("filtered", "filter.url"), "t/typo": ("invalid", "read.unknown_task"),
                     "t/good": ("ok", None)}


# ---- early, one-line errors -----------------------------------------------------------------------


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines()
             if ln.strip() and "WARNING" not in ln and not ln.startswith(("vlpack: starting", "progress"))]
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert len(lines) <= 2, proc.stderr[-3000:]  # the error, and where its traceback was logged
    return errors[0]


def test_a_missing_source_path_fails_before_ray(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(f"sources: [{{name: t, format: jsonl, path: {tmp_path / 'nowhere'}}}]\n"
                   f"output: {{dir: {tmp_path / 'out'}}}\n")
    line = _one_error_line(_cli("run", str(job), "--no-progress"))
    assert "nowhere" in line and "source 't'" in line
    assert not (tmp_path / "out").exists()
    check = _cli("check", str(job))
    assert check.returncode != 0 and "nowhere" in check.stderr


def _repeated_id_job(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    data.mkdir()
    _write_jsonl(data / "a.jsonl", _text_rows("x", 4))
    _write_jsonl(data / "b.jsonl", _text_rows("x", 2, start=3))  # x3 again
    job = tmp_path / "job.yaml"
    out = tmp_path / "out"
    job.write_text(f"sources: [{{name: t, format: jsonl, path: {data}, task: text}}]\noutput: {{dir: {out}}}\n")
    return job, out


@pytest.mark.parametrize("check", ["one task", "shuffle"])
def test_ids_repeated_across_files_fail_before_any_row_stage(ray_local, tmp_path, monkeypatch, check):
    import jobs.file_stages
    from jobs.errors import explain
    from jobs.pipeline import JobError, run_job
    from schemas.config import load_job_config

    if check == "shuffle":  # the cluster-scale path: a hash-partitioned groupby of the ids
        monkeypatch.setattr(jobs.file_stages, "ONE_TASK_ID_CHECK_BYTES", 0)
    job, out = _repeated_id_job(tmp_path)
    with pytest.raises(JobError) as err:
        run_job(load_job_config(job))
    assert explain(err.value) == ("source 't': sample id 't/x3' occurs in 2 files (a.jsonl, b.jsonl); sample ids "
                                  "must be unique within a source: fix the ids, or split the files into sources", False)
    assert not list((out / ".vlpack" / "files").glob("*.parquet"))  # no row stage ran, so nothing was checkpointed


@pytest.mark.slow
def test_ids_repeated_across_files_end_as_one_line_at_the_terminal(tmp_path):
    job, out = _repeated_id_job(tmp_path)
    line = _one_error_line(_cli("run", str(job), "--no-progress"))
    assert "sample id 't/x3' occurs in 2 files (a.jsonl, b.jsonl)" in line
    assert list((out / ".vlpack" / "logs").glob("error-*.log"))


def test_an_unreadable_source_file_found_by_a_worker_is_one_line_naming_it(ray_local, tmp_path):
    from jobs.errors import explain
    from jobs.pipeline import run_job

    data = tmp_path / "data"
    data.mkdir()
    (data / "broken.parquet").write_bytes(b"PAR1 not really parquet PAR1")  # passes the pre-Ray check
    cfg = parse_job_config({"sources": [{"name": "p", "format": "parquet", "path": str(data)}],
                            "output": {"dir": str(tmp_path / "out")}})
    with pytest.raises(Exception) as err:  # noqa: B017 - whatever Ray wraps it in
        run_job(cfg)
    line, internal = explain(err.value)
    assert "broken.parquet" in line and line.startswith("source 'p': cannot read parquet") and not internal
    assert "\n" not in line


def test_a_file_that_is_not_parquet_is_refused_by_name_before_ray(tmp_path):
    """JSON rows in a file named .parquet: one line naming the file, from the pre-Ray checks."""
    from jobs.errors import explain
    from jobs.pipeline import preflight

    data = tmp_path / "data"
    data.mkdir()
    (data / "good.parquet").write_bytes(b"PAR1" + b"\0" * 8 + b"PAR1")
    (data / "rows.parquet").write_text('{"id": "a", "image": "x.jpg", "caption": "a dog"}\n')
    cfg = parse_job_config({"sources": [{"name": "p", "format": "parquet", "path": str(data)}],
                            "output": {"dir": str(tmp_path / "out")}})
    with pytest.raises(Exception) as err:  # noqa: B017 - the error the CLI explains
        preflight(cfg)
    line, internal = explain(err.value)
    assert line.startswith("source 'p': cannot read parquet") and "rows.parquet" in line and "PAR1" in line
    assert not internal and "\n" not in line and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_disk_full_is_one_line_naming_the_file(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the disk-full path is not exercised")
    try:
        data = _corpus(tmp_path)
        job = tmp_path / "job.yaml"
        job.write_text(f"sources: [{{name: t, format: jsonl, path: {data}, task: text}}]\n"
                       f"output: {{dir: {small / 'out'}}}\n")
        (small / "filler").write_bytes(b"\0" * (60 << 10))
        proc = _cli("run", str(job), "--no-progress")
        line = _one_error_line(proc)
        assert "No space left on device" in line or "no space left on the device" in line, line
        assert str(small) in line
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_ray_failures_read_as_one_line():
    """What a lost node, a dead worker, an out-of-memory kill or a programming error inside a worker
    become; the exceptions are Ray's own types, wrapped the way Ray wraps them."""
    import ray.exceptions as rex

    from jobs.errors import explain
    from jobs.pipeline import JobError

    def wrapped(cause: BaseException) -> BaseException:
        return rex.RayTaskError("write_shard_group", "Traceback ... (remote)", cause)

    msg, internal = explain(rex.NodeDiedError("node 1a2b died"))
    assert "a Ray worker or node was lost (NodeDiedError" in msg and "resume" in msg and not internal
    msg, _ = explain(rex.WorkerCrashedError())
    assert "WorkerCrashedError" in msg
    msg, _ = explain(wrapped(rex.OutOfMemoryError("killed")))
    assert "ran out of memory" in msg
    msg, internal = explain(wrapped(JobError("source 's': 3 of 4 samples are invalid")))
    assert (msg, internal) == ("source 's': 3 of 4 samples are invalid", False)
    msg, internal = explain(wrapped(OSError(28, "No space left on device", "/out/shards/a.tar")))
    assert msg == "no space left on the device: /out/shards/a.tar" and not internal
    msg, internal = explain(wrapped(ZeroDivisionError("division by zero")))
    assert msg == "internal error (ZeroDivisionError: division by zero)" and internal


# ---- resource caps ------------------------------------------------------------------------------


def test_a_huge_jsonl_line_is_a_ledger_row_read_no_further_than_the_limit(tmp_path):
    import tracemalloc

    from jobs.readers import read_jsonl
    from schemas.config import ReadConfig, SourceConfig

    path = tmp_path / "d.jsonl"
    with path.open("wb") as fh:
        fh.write(json.dumps(_text_rows("a", 1)[0]).encode() + b"\n")
        fh.write(b'{"id": "huge", "task": "text", "text": "' + b"x" * (40 << 20) + b'"}\n')
        fh.write(json.dumps(_text_rows("b", 1)[0]).encode() + b"\n")
    src = SourceConfig(name="t", format="jsonl", path=str(path))
    tracemalloc.start()
    table = read_jsonl(str(path), src, ReadConfig(max_line_bytes=1 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows = table.to_pylist()
    assert [(r["sample_id"], r["status"], r["reason"]) for r in rows] == [
        ("t/a0", "ok", None), ("t/d.jsonl:2", "invalid", "read.line_too_large"), ("t/b0", "ok", None)]
    assert peak < 8 << 20  # a few times the limit, not the 40 MiB line


def test_an_oversized_parquet_cell_and_tar_caption_are_ledger_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from hostile_inputs import write_tar

    from jobs.readers import read_parquet, read_wds
    from schemas.config import ReadConfig, SourceConfig

    limits = ReadConfig(max_cell_bytes=4096)
    pq.write_table(pa.table({"id": ["ok", "big"], "task": ["text", "text"],
                             "text": ["A heron stands in water.", "y" * 5000]}), tmp_path / "d.parquet")
    rows = read_parquet(str(tmp_path / "d.parquet"), SourceConfig(name="p", format="parquet",
                                                                   path=str(tmp_path / "d.parquet")), limits)
    assert [(r["sample_id"], r["reason"]) for r in rows.to_pylist()] == [("p/ok", None),
                                                                        ("p/d.parquet:1", "read.cell_too_large")]
    tar = write_tar(tmp_path / "00000.tar", [("k1.jpg", jpeg(96, 64)), ("k1.txt", b"z" * 5000),
                                             ("k2.jpg", jpeg(96, 64)), ("k2.txt", CAPTION.encode())])
    rows = read_wds(str(tar), SourceConfig(name="w", format="wds", path=str(tar)), limits).to_pylist()
    assert [(r["sample_id"], r["reason"]) for r in rows] == [("w/00000/k1", "read.cell_too_large"), ("w/00000/k2", None)]


def test_an_image_with_a_huge_private_chunk_is_too_many_bytes(tmp_path):
    from hostile_inputs import fate, image_source, job_config, png_chunk

    from hostile_inputs import png as png_bytes

    base = png_bytes(300, 200)
    padded = base[:33] + png_chunk(b"prVt", b"\0" * (2 << 20)) + base[33:]  # after IHDR, before the pixels
    source = image_source(tmp_path, {"big.png": padded, "fine.png": base})
    assert fate(job_config([source])) == {"s/big.png": ("invalid", "probe.too_many_bytes"),
                                          "s/fine.png": ("packed", None)}
    capped = job_config([source], probe={"max_image_bytes": 4096})
    assert fate(capped)["s/fine.png"] == ("invalid", "probe.too_many_bytes")


def test_a_huge_caption_is_judged_too_long_first(tmp_path):
    from hostile_inputs import fate, job_config, write_jsonl

    (tmp_path / "a.jpg").write_bytes(jpeg(320, 240))
    path = write_jsonl(tmp_path / "s.jsonl", [{"id": "a", "image": "a.jpg", "caption": "http://x.com " * 20000}])
    source = {"name": "s", "format": "jsonl", "path": str(path), "root": str(tmp_path)}
    assert fate(job_config([source])) == {"s/a": ("filtered", "filter.too_long")}


def test_scorer_actors_that_would_take_every_cpu_are_refused_before_ray(tmp_path):
    from jobs.pipeline import JobError, preflight

    data = _corpus(tmp_path, n_files=1)
    model = tmp_path / "lm"
    model.mkdir()
    (model / "config.json").write_text("{}")  # the check reads no model: a checkpoint's shape is enough
    cfg = _cfg(data, tmp_path / "o", ray={"num_cpus": 2},
               filters={"scorers": {"lm": {"enabled": True, "model_path": str(model)}, "concurrency": 2}})
    with pytest.raises(JobError, match=r"filters.scorers: 2 actors × 1 CPUs take 2 of the 2 CPUs"):
        preflight(cfg)
    preflight(cfg.model_copy(update={"filters": cfg.filters.model_copy(update={
        "scorers": cfg.filters.scorers.model_copy(update={"num_cpus": 0.5})})}))


def test_an_output_dir_holding_other_files_is_refused_before_ray(tmp_path):
    """A directory with files of its own (not a vlpack output, committed or not) is never written
    into: one line names it, and `check` and `plan` say the same with a non-zero exit."""
    data = tmp_path / "data"
    data.mkdir()
    _write_jsonl(data / "a.jsonl", _text_rows("x", 2))
    out = tmp_path / "stuff"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    job = tmp_path / "job.yaml"
    job.write_text(f"sources: [{{name: t, format: jsonl, path: {data}, task: text}}]\noutput: {{dir: {out}}}\n")
    line = _one_error_line(_cli("run", str(job), "--no-progress"))
    assert str(out) in line and "not empty" in line
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    for command in ("check", "plan"):
        proc = _cli(command, str(job))
        assert proc.returncode != 0 and "not empty" in proc.stderr, (command, proc.stderr[-2000:])
